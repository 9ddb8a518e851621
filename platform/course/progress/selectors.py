"""Reads for progress: exercise and module states, scores and time, for one learner or a cohort.

Everything is computed from a fixed number of queries, whatever the number of learners, modules
and exercises, so cohort pages stay cheap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from course.curriculum.models import Exercise, Module
from course.progress.models import ActivityDay, ExerciseProgress


class ModuleState:
    LOCKED = "locked"
    AVAILABLE = "available"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


@dataclass
class ExerciseStanding:
    slug: str
    title: str
    state: str = ExerciseProgress.State.NOT_STARTED
    best_score: float = 0.0
    max_score: float = 0.0
    attempts: int = 0
    time_s: int = 0
    # Any heartbeat or submission, even one that added no time yet.
    active: bool = False


@dataclass
class ModuleStanding:
    slug: str
    title: str
    estimated_hours: float
    requires: list[str]
    state: str = ModuleState.AVAILABLE
    score: float = 0.0
    max_score: float = 0.0
    time_s: int = 0
    exercises: list[ExerciseStanding] = field(default_factory=list)


@dataclass
class Curriculum:
    modules: list[Module]
    requires: dict[int, list[str]]
    exercises: dict[int, list[Exercise]]


def curriculum() -> Curriculum:
    """Modules in order, their prerequisites and their exercises (three queries)."""
    modules = list(Module.objects.prefetch_related("requires"))
    exercises: dict[int, list[Exercise]] = defaultdict(list)
    for exercise in Exercise.objects.select_related("current_version").order_by("position", "slug"):
        exercises[exercise.module_id].append(exercise)
    return Curriculum(modules, {m.id: [r.slug for r in m.requires.all()] for m in modules}, exercises)


def standings(*, learner_ids: list[int], course: Curriculum | None = None) -> dict[int, list[ModuleStanding]]:
    """Per learner, per module (in curriculum order): state, score and time, with exercise detail."""
    course = course or curriculum()
    progress = {(p.learner_id, p.exercise_id): p for p in ExerciseProgress.objects.filter(learner_id__in=learner_ids)}
    seconds = {
        (row["learner_id"], row["exercise_id"]): row["total"]
        for row in ActivityDay.objects.filter(learner_id__in=learner_ids)
        .values("learner_id", "exercise_id")
        .annotate(total=Sum("seconds"))
    }
    return {lid: _learner_standing(lid, course, progress, seconds) for lid in learner_ids}


def _learner_standing(
    learner_id: int,
    course: Curriculum,
    progress: dict[tuple[int, int], ExerciseProgress],
    seconds: dict[tuple[int, int], int],
) -> list[ModuleStanding]:
    result: list[ModuleStanding] = []
    by_slug: dict[str, ModuleStanding] = {}
    for module in course.modules:  # curriculum order puts prerequisites first
        standing = ModuleStanding(module.slug, module.title, module.estimated_hours, course.requires[module.id])
        for exercise in course.exercises.get(module.id, []):
            p = progress.get((learner_id, exercise.id))
            points = exercise.current_version.points if exercise.current_version else 0.0
            key = (learner_id, exercise.id)
            ex = ExerciseStanding(
                exercise.slug, exercise.title, max_score=points, time_s=seconds.get(key, 0), active=key in seconds
            )
            if p is not None:
                ex.state, ex.best_score, ex.attempts = p.state, p.best_score, p.attempts
            standing.exercises.append(ex)
        standing.score = sum(e.best_score for e in standing.exercises)
        standing.max_score = sum(e.max_score for e in standing.exercises)
        standing.time_s = sum(e.time_s for e in standing.exercises)
        standing.state = _module_state(standing, by_slug)
        by_slug[module.slug] = standing
        result.append(standing)
    return result


def _module_state(standing: ModuleStanding, earlier: dict[str, ModuleStanding]) -> str:
    if any(earlier[r].state != ModuleState.COMPLETE for r in standing.requires if r in earlier):
        return ModuleState.LOCKED
    # A module with no exercises yet has nothing to do: it does not hold the curriculum up.
    if all(e.state == ExerciseProgress.State.PASSED for e in standing.exercises):
        return ModuleState.COMPLETE
    if any(e.active or e.state != ExerciseProgress.State.NOT_STARTED for e in standing.exercises):
        return ModuleState.IN_PROGRESS
    return ModuleState.AVAILABLE


def module_state_for(*, learner_id: int, module_slug: str) -> str:
    for standing in standings(learner_ids=[learner_id])[learner_id]:
        if standing.slug == module_slug:
            return standing.state
    return ModuleState.LOCKED
