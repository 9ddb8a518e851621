"""Writes for cohorts: what their staff may change."""

from __future__ import annotations

from course.accounts.models import User
from course.cohorts.models import Cohort
from course.cohorts.selectors import staff_cohort_ids
from course.errors import NotFound


def cohort_prerequisites_set(*, user: User, cohort_id: int, advisory: bool) -> Cohort:
    """Make the cohort's prerequisites advice (no module locked for its learners) or rules again.

    Only the cohort's staff (and superusers) may; to anyone else the cohort does not exist.
    """
    if cohort_id not in staff_cohort_ids(user):
        raise NotFound("no such cohort")
    cohort = Cohort.objects.get(id=cohort_id)
    if cohort.prerequisites_advisory != advisory:
        cohort.prerequisites_advisory = advisory
        cohort.save(update_fields=["prerequisites_advisory"])
    return cohort
