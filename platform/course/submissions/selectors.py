"""Reads for submissions, with visibility rules in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from course.accounts.models import User
from course.cohorts.selectors import visible_learner_ids
from course.submissions.models import Submission


def submissions_visible_to(user: User) -> QuerySet[Submission]:
    """A learner sees their own submissions; staff also those of learners in their cohorts."""
    qs = Submission.objects.select_related("exercise")
    if user.is_superuser:
        return qs
    if user.is_course_staff:
        return qs.filter(learner_id__in=[user.id, *visible_learner_ids(user)])
    return qs.filter(learner=user)
