"""Writes for accounts: creating users with a role, and the demo cohort."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from course.accounts.models import User

# Django groups mirror the roles so the admin site's permissions follow them.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    User.Role.INSTRUCTOR: [
        "curriculum.view_module",
        "curriculum.view_exercise",
        "curriculum.change_exercise",
        "curriculum.view_exerciseversion",
        "submissions.view_submission",
        "submissions.view_testresult",
        "cohorts.view_cohort",
        "cohorts.view_enrollment",
    ],
    User.Role.ADMIN: [
        "curriculum.view_module",
        "curriculum.change_module",
        "curriculum.view_exercise",
        "curriculum.change_exercise",
        "curriculum.view_exerciseversion",
        "submissions.view_submission",
        "submissions.change_submission",
        "submissions.view_testresult",
        "cohorts.view_cohort",
        "cohorts.add_cohort",
        "cohorts.change_cohort",
        "cohorts.view_enrollment",
        "cohorts.add_enrollment",
        "cohorts.change_enrollment",
        "cohorts.delete_enrollment",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "progress.view_exerciseprogress",
        "progress.view_activityday",
    ],
}


def role_group(role: str) -> Group:
    """The group for ``role``, with its permissions (created on first use)."""
    group, _ = Group.objects.get_or_create(name=f"{role}s")
    wanted = ROLE_PERMISSIONS.get(role, [])
    if wanted:
        perms = [
            p
            for p in Permission.objects.select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        group.permissions.set(perms)
    return group


@transaction.atomic
def user_create(*, username: str, role: str, password: str | None = None, email: str = "") -> tuple[User, str]:
    """Create a user with ``role``; returns the user and the password (generated when not given)."""
    password = password or secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, email=email, password=password, role=role)
    user.is_staff = role in (User.Role.INSTRUCTOR, User.Role.ADMIN)
    user.save(update_fields=["is_staff"])
    if role != User.Role.LEARNER:
        user.groups.add(role_group(role))
    return user, password
