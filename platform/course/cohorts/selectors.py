"""Reads for cohorts: who staff may see, and a cohort's progress matrix."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from course.accounts.models import User
from course.cohorts.models import Cohort, Enrollment
from course.progress.models import ActivityDay, ExerciseProgress, Reveal
from course.progress.selectors import ModuleState, curriculum, help_taken, standings

# The funnel's columns, furthest along first; a learner who tested out of a module skipped it.
FUNNEL_STATES = (
    ModuleState.COMPLETE,
    ModuleState.TESTED_OUT,
    ModuleState.IN_PROGRESS,
    ModuleState.AVAILABLE,
    ModuleState.LOCKED,
)


def sees_every_cohort(user: User) -> bool:
    """Superusers and the admin role organise the whole course; instructors see the cohorts they staff."""
    return user.is_superuser or user.role == User.Role.ADMIN


def staff_cohort_ids(user: User) -> list[int]:
    if sees_every_cohort(user):
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


def learner_ids_visible_to(user: User) -> list[int] | None:
    """Whose work ``user`` may see: None for everyone (organisers), else themselves and their cohorts' learners."""
    if sees_every_cohort(user):
        return None
    if not user.is_course_staff:
        return [user.id]
    return [user.id, *visible_learner_ids(user)]


def cohort_progress(*, cohort: Cohort) -> list[dict[str, Any]]:
    """One row per learner and module: state, score and active time (a constant number of queries)."""
    learners = _learners(cohort)
    table = standings(learner_ids=[lid for lid, _ in learners], course=curriculum(), detail=False)
    return progress_rows([{"learner": name, "cells": table[lid]} for lid, name in learners])


def progress_rows(matrix: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The learners x modules matrix as flat rows, the shape of the progress API and its CSV."""
    return [
        {
            "learner": row["learner"],
            "module": m.slug,
            "status": m.state,
            "score": m.score,
            "max_score": m.max_score,
            "time_s": m.time_s,
            "estimated_hours": m.estimated_hours,
        }
        for row in matrix
        for m in row["cells"]
    ]


def _learners(cohort: Cohort) -> list[tuple[int, str]]:
    """(id, username) of the cohort's learners: a 1,000-learner cohort needs no User objects."""
    return list(
        User.objects.filter(enrollments__cohort=cohort, enrollments__role=Enrollment.Role.LEARNER)
        .order_by("username")
        .values_list("id", "username")
    )


STUCK_AFTER_DAYS = 7
STUCK_FAILED_ATTEMPTS = 5


def cohort_dashboard(*, cohort: Cohort) -> dict[str, Any]:
    """Everything the cohort page shows: the matrix, a funnel and hours per module, stuck learners."""
    from datetime import timedelta

    from django.db.models import Max
    from django.utils import timezone

    learners = _learners(cohort)
    ids = [lid for lid, _ in learners]
    course = curriculum()
    table = standings(learner_ids=ids, course=course, detail=False)
    modules = []
    for position, module in enumerate(course.modules):
        cells = [table[lid][position] for lid in ids]
        # A module a learner tested out of was skipped, not worked through: its time is not the module's.
        hours = [c.time_s / 3600 for c in cells if c.time_s and c.state != ModuleState.TESTED_OUT]
        modules.append(
            {
                "slug": module.slug,
                "title": module.title,
                "estimated_hours": module.estimated_hours,
                "funnel": {state: sum(c.state == state for c in cells) for state in FUNNEL_STATES},
                # Learners who spent time on the module (not those who tested out); the median is over them.
                "hours": hours,
                "median_hours": statistics.median(hours) if hours else 0.0,
                "over_estimate": sum(h > module.estimated_hours for h in hours),
            }
        )
    last_active = dict(
        ActivityDay.objects.filter(learner_id__in=ids).values_list("learner_id").annotate(last=Max("day"))
    )
    struggling: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for learner_id, slug, attempts in (
        ExerciseProgress.objects.filter(learner_id__in=ids, attempts__gte=STUCK_FAILED_ATTEMPTS)
        .exclude(state=ExerciseProgress.State.PASSED)
        .order_by("exercise__slug")
        .values_list("learner_id", "exercise__slug", "attempts")
    ):
        struggling[learner_id].append((slug, attempts))
    today = timezone.now().date()
    stuck = []
    done = {lid for lid in ids if all(m.state in ModuleState.SATISFIED for m in table[lid])}
    for lid, name in learners:
        last = last_active.get(lid)
        if lid in done:
            pass  # finished (or tested out of) every module: quiet, not stuck
        elif last is None or today - last > timedelta(days=STUCK_AFTER_DAYS):
            stuck.append({"learner": name, "why": "no activity yet" if last is None else f"inactive since {last}"})
        for slug, attempts in struggling.get(lid, []):
            stuck.append({"learner": name, "why": f"{attempts} attempts on {slug} without passing"})
    matrix = [{"learner": name, "cells": table[lid]} for lid, name in learners]
    return {
        "cohort": cohort,
        "modules": modules,
        "matrix": matrix,
        "stuck": stuck,
        "reveals": _reveals(ids, dict(learners)),
        "learners": len(learners),
    }


def _reveals(ids: list[int], names: dict[int, str]) -> list[dict[str, Any]]:
    """Per learner and exercise they asked for help on, as rows of the page and its export."""
    rows = [
        {
            "learner": names[h.learner_id],
            "exercise": h.exercise,
            "hints": h.hints,
            "solution_at": h.solution_at,
            "passed_at": h.passed_at,
            "passed_after_solution": h.passed_after_solution,
        }
        for h in help_taken(Reveal.objects.filter(learner_id__in=ids))
    ]
    return sorted(rows, key=lambda r: (r["learner"], r["exercise"]))
