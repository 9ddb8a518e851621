"""Reads for cohorts: who staff may see, and a cohort's progress matrix."""

from __future__ import annotations

from typing import Any

from course.accounts.models import User
from course.cohorts.models import Cohort, Enrollment
from course.progress.selectors import curriculum, standings


def staff_cohort_ids(user: User) -> list[int]:
    if user.is_superuser or user.role == User.Role.ADMIN:
        return list(Cohort.objects.values_list("id", flat=True))
    if not user.is_course_staff:
        return []
    return list(Enrollment.objects.filter(user=user, role=Enrollment.Role.STAFF).values_list("cohort_id", flat=True))


def visible_learner_ids(user: User) -> list[int]:
    """Learners in the cohorts ``user`` runs."""
    return list(
        Enrollment.objects.filter(cohort_id__in=staff_cohort_ids(user), role=Enrollment.Role.LEARNER)
        .values_list("user_id", flat=True)
        .distinct()
    )


def cohort_progress(*, cohort: Cohort) -> list[dict[str, Any]]:
    """One row per learner and module: state, score and active time (a constant number of queries)."""
    learners = list(
        User.objects.filter(enrollments__cohort=cohort, enrollments__role=Enrollment.Role.LEARNER).order_by("username")
    )
    table = standings(learner_ids=[u.id for u in learners], course=curriculum())
    return [
        {
            "learner": learner.username,
            "module": m.slug,
            "status": m.state,
            "score": m.score,
            "max_score": m.max_score,
            "time_s": m.time_s,
            "estimated_hours": m.estimated_hours,
        }
        for learner in learners
        for m in table[learner.id]
    ]
