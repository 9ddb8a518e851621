"""Writes for cohorts: what their staff may change."""

from __future__ import annotations

from course.accounts.models import User
from course.cohorts.models import Cohort
from course.cohorts.selectors import staff_cohort_ids
from course.errors import Invalid, NotFound

MAX_SOLUTION_AFTER_ATTEMPTS = 100


def cohort_settings_update(
    *,
    user: User,
    cohort_id: int,
    prerequisites_advisory: bool | None = None,
    solution_policy: str | None = None,
    solution_after_attempts: int | None = None,
) -> Cohort:
    """Change what is given (None: left as it is). ``prerequisites_advisory``: no module is locked for
    the cohort's learners. ``solution_policy`` (and its number of attempts): when they may reveal a
    solution. Only the cohort's staff (and superusers) may; to anyone else the cohort does not exist."""
    if cohort_id not in staff_cohort_ids(user):
        raise NotFound("no such cohort")
    if solution_policy is not None and solution_policy not in Cohort.SolutionPolicy.values:
        raise Invalid(f"solution_policy must be one of {', '.join(Cohort.SolutionPolicy.values)}")
    if solution_after_attempts is not None and not 0 <= solution_after_attempts <= MAX_SOLUTION_AFTER_ATTEMPTS:
        raise Invalid(f"solution_after_attempts must be between 0 and {MAX_SOLUTION_AFTER_ATTEMPTS}")
    cohort = Cohort.objects.get(id=cohort_id)
    changes = {
        "prerequisites_advisory": prerequisites_advisory,
        "solution_policy": solution_policy,
        "solution_after_attempts": solution_after_attempts,
    }
    changed = [name for name, value in changes.items() if value is not None and getattr(cohort, name) != value]
    for name in changed:
        setattr(cohort, name, changes[name])
    if changed:
        cohort.save(update_fields=changed)
    return cohort
