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


@dataclass(slots=True)
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


@dataclass(slots=True)
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


def standings(
    *, learner_ids: list[int], course: Curriculum | None = None, detail: bool = True
) -> dict[int, list[ModuleStanding]]:
    """Per learner, per module (in curriculum order): state, score and time.

    With ``detail`` each module lists its exercises; cohort views leave it off, which keeps a
    1,000-learner cohort to plain tuples and sums.
    """
    course = course or curriculum()
    progress = {
        (learner, exercise): (state, best, attempts)
        for learner, exercise, state, best, attempts in ExerciseProgress.objects.filter(
            learner_id__in=learner_ids
        ).values_list("learner_id", "exercise_id", "state", "best_score", "attempts")
    }
    seconds = dict(
        ((learner, exercise), total)
        for learner, exercise, total in ActivityDay.objects.filter(learner_id__in=learner_ids)
        .values_list("learner_id", "exercise_id")
        .annotate(total=Sum("seconds"))
    )
    static = [
        (
            module,
            course.requires[module.id],
            [
                (e.id, e.slug, e.title, e.current_version.points if e.current_version else 0.0)
                for e in course.exercises.get(module.id, [])
            ],
        )
        for module in course.modules
    ]
    return {lid: _learner_standing(lid, static, progress, seconds, detail) for lid in learner_ids}


_NOT_STARTED = (ExerciseProgress.State.NOT_STARTED, 0.0, 0)


def _learner_standing(learner_id, static, progress, seconds, detail) -> list[ModuleStanding]:
    result: list[ModuleStanding] = []
    states: dict[str, str] = {}
    for module, requires, exercises in static:  # curriculum order puts prerequisites first
        standing = ModuleStanding(module.slug, module.title, module.estimated_hours, requires)
        all_passed, started = True, False
        for exercise_id, slug, title, points in exercises:
            key = (learner_id, exercise_id)
            state, best, attempts = progress.get(key, _NOT_STARTED)
            time_s = seconds.get(key, 0)
            standing.score += best
            standing.max_score += points
            standing.time_s += time_s
            all_passed = all_passed and state == ExerciseProgress.State.PASSED
            started = started or key in seconds or state != ExerciseProgress.State.NOT_STARTED
            if detail:
                standing.exercises.append(
                    ExerciseStanding(slug, title, state, best, points, attempts, time_s, active=key in seconds)
                )
        if any(states.get(r, ModuleState.COMPLETE) != ModuleState.COMPLETE for r in requires):
            standing.state = ModuleState.LOCKED
        elif all_passed:  # a module with no exercises yet has nothing to do: it holds nothing up
            standing.state = ModuleState.COMPLETE
        elif started:
            standing.state = ModuleState.IN_PROGRESS
        else:
            standing.state = ModuleState.AVAILABLE
        states[module.slug] = standing.state
        result.append(standing)
    return result


def module_state_for(*, learner_id: int, module_slug: str) -> str:
    for standing in standings(learner_ids=[learner_id])[learner_id]:
        if standing.slug == module_slug:
            return standing.state
    return ModuleState.LOCKED
