"""Reads for progress: exercise and module states, scores and time, for one learner or a cohort.

Everything is computed from a fixed number of queries, whatever the number of learners, modules
and exercises, so cohort pages stay cheap.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet, Sum

from course.accounts.models import User
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise, Module
from course.errors import Forbidden, NotFound
from course.progress.models import ActivityDay, ExerciseProgress, Reveal
from grader.help import BundleHelp, bundle_help


class ModuleState:
    LOCKED = "locked"
    AVAILABLE = "available"
    IN_PROGRESS = "in_progress"
    # Every checkpoint passed, not every exercise: the module is skipped, and satisfies what requires it.
    TESTED_OUT = "tested_out"
    COMPLETE = "complete"
    ALL = (LOCKED, AVAILABLE, IN_PROGRESS, TESTED_OUT, COMPLETE)
    # What a module that requires this one accepts.
    SATISFIED = (TESTED_OUT, COMPLETE)


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
    # Passing every checkpoint of its module tests the learner out of it; open while the module is locked.
    checkpoint: bool = False
    # The learner may submit it and reveal its help: its module is not locked, or it is a checkpoint.
    open: bool = True


@dataclass(slots=True)
class MissingPrerequisite:
    """A prerequisite the learner has not satisfied, and how to: finish it, or pass its checkpoints."""

    slug: str
    title: str
    checkpoints: list[ExerciseRef] = field(default_factory=list)


@dataclass(slots=True)
class ExerciseRef:
    slug: str
    title: str
    passed: bool = False


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
    criteria: list[str] = field(default_factory=list)
    # Prerequisites not satisfied (complete or tested out): why the module is locked, and how to skip
    # them (with ``detail`` only: cohort tables need the state alone).
    missing: list[MissingPrerequisite] = field(default_factory=list)
    # A cohort of the learner made prerequisites advisory: missing ones do not lock the module.
    advisory: bool = False


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
    advisory = set(
        Enrollment.objects.filter(
            user_id__in=learner_ids, role=Enrollment.Role.LEARNER, cohort__prerequisites_advisory=True
        ).values_list("user_id", flat=True)
    )
    progress: dict[int, dict[int, tuple[str, float, int]]] = defaultdict(dict)
    for learner, exercise, state, best, attempts in ExerciseProgress.objects.filter(
        learner_id__in=learner_ids
    ).values_list("learner_id", "exercise_id", "state", "best_score", "attempts"):
        progress[learner][exercise] = (state, best, attempts)
    seconds: dict[int, dict[int, int]] = defaultdict(dict)
    for learner, exercise, total in (
        ActivityDay.objects.filter(learner_id__in=learner_ids)
        .values_list("learner_id", "exercise_id")
        .annotate(total=Sum("seconds"))
    ):
        seconds[learner][exercise] = total
    static = []
    position: dict[int, int] = {}  # exercise id -> index of its module
    index_of: dict[str, int] = {}
    for index, module in enumerate(course.modules):
        exercises = [
            (e.id, e.slug, e.title, e.current_version.points if e.current_version else 0.0, e.checkpoint)
            for e in course.exercises.get(module.id, [])
        ]
        position.update((e[0], index) for e in exercises)
        requires = course.requires[module.id]
        static.append(
            _ModuleFacts(
                module,
                requires,
                # Prerequisites come first in curriculum order; one placed later cannot hold this one.
                [index_of[slug] for slug in requires if slug in index_of],
                exercises,
                sum(e[3] for e in exercises),
                [e[0] for e in exercises if e[4]],
            )
        )
        index_of[module.slug] = index
    return {
        lid: _learner_standing(progress.get(lid, {}), seconds.get(lid, {}), static, position, detail, lid in advisory)
        for lid in learner_ids
    }


_NOT_STARTED = (ExerciseProgress.State.NOT_STARTED, 0.0, 0)


@dataclass(slots=True)
class _ModuleFacts:
    """What is the same for every learner, worked out once per ``standings()`` call."""

    module: Module
    requires: list[str]
    prior: list[int]  # indices of the prerequisites
    exercises: list[tuple[int, str, str, float, bool]]  # id, slug, title, points, checkpoint
    max_score: float
    checkpoint_ids: list[int]


def _learner_standing(
    progress: dict[int, tuple[str, float, int]],
    seconds: dict[int, int],
    static: list[_ModuleFacts],
    position: dict[int, int],
    detail: bool,
    advisory: bool,
) -> list[ModuleStanding]:
    # Sums over what the learner touched, not over every exercise: a cohort of 1,000 learners
    # has touched a few exercises each out of forty.
    n = len(static)
    score, time_s, passed, started = [0.0] * n, [0] * n, [0] * n, [False] * n
    passed_ids: set[int] = set()
    for exercise_id, (state, best, _attempts) in progress.items():
        if (i := position.get(exercise_id)) is not None:
            score[i] += best
            if state == ExerciseProgress.State.PASSED:
                passed[i] += 1
                passed_ids.add(exercise_id)
            started[i] = started[i] or state != ExerciseProgress.State.NOT_STARTED
    for exercise_id, total in seconds.items():
        if (i := position.get(exercise_id)) is not None:
            time_s[i] += total
            started[i] = True
    result: list[ModuleStanding] = []
    for i, facts in enumerate(static):  # prerequisites come first
        module, exercises = facts.module, facts.exercises
        standing = ModuleStanding(
            module.slug,
            module.title,
            module.estimated_hours,
            facts.requires,
            score=score[i],
            max_score=facts.max_score,
            time_s=time_s[i],
            advisory=advisory,
        )
        if detail:
            standing.criteria = list(module.criteria)
            for exercise_id, slug, title, points, checkpoint in exercises:
                state, best, attempts = progress.get(exercise_id, _NOT_STARTED)
                standing.exercises.append(
                    ExerciseStanding(
                        slug,
                        title,
                        state,
                        best,
                        points,
                        attempts,
                        seconds.get(exercise_id, 0),
                        active=exercise_id in seconds,
                        checkpoint=checkpoint,
                    )
                )
        unmet = [j for j in facts.prior if result[j].state not in ModuleState.SATISFIED]
        if detail:  # which checkpoints skip each: for the learner's own pages, not for cohort tables
            standing.missing = [_missing(static[j], progress) for j in unmet]
        if exercises and passed[i] == len(exercises):
            standing.state = ModuleState.COMPLETE
        elif facts.checkpoint_ids and passed_ids.issuperset(facts.checkpoint_ids):  # tested out
            standing.state = ModuleState.TESTED_OUT
        elif unmet and not advisory:
            standing.state = ModuleState.LOCKED
        elif passed[i] == len(exercises):  # a module with no exercises yet holds nothing up
            standing.state = ModuleState.COMPLETE
        elif started[i]:
            standing.state = ModuleState.IN_PROGRESS
        else:
            standing.state = ModuleState.AVAILABLE
        if standing.state == ModuleState.LOCKED:
            for exercise in standing.exercises:
                exercise.open = exercise.checkpoint
        result.append(standing)
    return result


def _missing(facts: _ModuleFacts, progress: dict[int, tuple[str, float, int]]) -> MissingPrerequisite:
    return MissingPrerequisite(
        facts.module.slug,
        facts.module.title,
        [
            ExerciseRef(slug, title, progress.get(eid, _NOT_STARTED)[0] == ExerciseProgress.State.PASSED)
            for eid, slug, title, _points, checkpoint in facts.exercises
            if checkpoint
        ],
    )


def unlock_advice(module: ModuleStanding) -> str:
    """Why ``module`` is locked and how to open it, in a sentence (the API, the CLI and the pages)."""
    parts = []
    for missing in module.missing:
        left = [c.slug for c in missing.checkpoints if not c.passed]
        if left:
            parts.append(f"{missing.slug!r} (finish it, or test out by passing its checkpoints {', '.join(left)})")
        else:
            parts.append(f"{missing.slug!r} (finish it)")
    return "it needs " + "; ".join(parts) if parts else "complete its prerequisites first"


def exercise_standing_for(*, learner: User, exercise: Exercise) -> tuple[ModuleStanding, ExerciseStanding]:
    """The learner's standing in ``exercise`` and in its module: the one place the lock rule is read."""
    for module in standings(learner_ids=[learner.id])[learner.id]:
        for standing in module.exercises:
            if standing.slug == exercise.slug:
                if learner.is_course_staff:  # staff try everything, locked or not
                    standing.open = True
                return module, standing
    raise NotFound(f"there is no exercise {exercise.slug!r}")


def require_open(*, learner: User, exercise: Exercise) -> None:
    """Forbidden, with why and how to open it, when the exercise's module is locked for ``learner``."""
    module, standing = exercise_standing_for(learner=learner, exercise=exercise)
    if not standing.open:
        raise Forbidden(f"module {module.slug!r} is locked: {unlock_advice(module)}")


@dataclass(slots=True)
class HelpView:
    """What a learner may see of an exercise's hints and solution, and what they have revealed."""

    hints_total: int
    hints: list[str]  # the revealed ones, in order
    solution_open: bool  # may be revealed now
    solution_rule: str  # when the solution opens, in the learner's words
    solution: str | None = None  # Markdown, once revealed
    # The exercise's module is locked to the learner (and it is no checkpoint): nothing may be revealed yet.
    locked: bool = False


def help_for(*, learner: User, exercise: Exercise, open_: bool) -> HelpView:
    """The exercise's help for ``learner``: the hints they revealed, and the solution under their cohort's
    rule. ``open_``: whether the learner may work on the exercise (``ExerciseStanding.open``)."""
    help_ = _published_help(exercise.current_version.bundle_path)
    reveals = list(Reveal.objects.filter(learner=learner, exercise=exercise).values_list("kind", flat=True))
    shown = reveals.count(Reveal.Kind.HINT)
    progress = ExerciseProgress.objects.filter(learner=learner, exercise=exercise).first()
    attempts = progress.attempts if progress else 0
    passed = progress is not None and progress.state == ExerciseProgress.State.PASSED
    policy, after = solution_policy_for(learner)
    allowed, rule = _solution_open(policy, after, attempts, passed, staff=learner.is_course_staff)
    if not help_.solution:
        rule = "this exercise has no solution to show"
    elif not open_:
        rule = "it opens with the exercise's module"
    return HelpView(
        hints_total=len(help_.hints),
        hints=list(help_.hints[: min(shown, len(help_.hints))]),
        solution_open=open_ and allowed and bool(help_.solution),
        solution_rule=rule,
        solution=help_.solution if Reveal.Kind.SOLUTION in reveals and help_.solution else None,
        locked=not open_,
    )


@dataclass(slots=True)
class HelpTaken:
    """The help one learner took on one exercise, and whether they passed after seeing the solution."""

    learner_id: int
    exercise_id: int
    exercise: str
    hints: int = 0
    solution_at: datetime | None = None
    passed_at: datetime | None = None

    @property
    def passed_after_solution(self) -> bool:
        return bool(self.solution_at and self.passed_at and self.passed_at > self.solution_at)


def help_taken(reveals: QuerySet[Reveal]) -> list[HelpTaken]:
    """Per learner and exercise in ``reveals``: hints seen, when the solution was shown, when the
    exercise was passed (two queries). The one reading of "passed after seeing the solution"."""
    rows: dict[tuple[int, int], HelpTaken] = {}
    for learner_id, exercise_id, slug, kind, at in reveals.values_list(
        "learner_id", "exercise_id", "exercise__slug", "kind", "revealed_at"
    ):
        row = rows.setdefault((learner_id, exercise_id), HelpTaken(learner_id, exercise_id, slug))
        if kind == Reveal.Kind.HINT:
            row.hints += 1
        else:
            row.solution_at = at
    passed = ExerciseProgress.objects.filter(
        learner_id__in={lid for lid, _ in rows}, exercise_id__in={eid for _, eid in rows}, passed_at__isnull=False
    ).values_list("learner_id", "exercise_id", "passed_at")
    for learner_id, exercise_id, at in passed:
        if (row := rows.get((learner_id, exercise_id))) is not None:
            row.passed_at = at
    return list(rows.values())


@functools.lru_cache(maxsize=512)
def _published_help(bundle_path: str) -> BundleHelp:
    # A published version's files never change (their folder is named by their content hash): read
    # them once per process, not on every exercise page.
    return bundle_help(Path(bundle_path))


def solution_policy_for(learner: User) -> tuple[str, int]:
    """The most generous solution rule among the learner's cohorts (the course default outside any)."""
    rules = list(
        Cohort.objects.filter(enrollments__user=learner, enrollments__role=Enrollment.Role.LEARNER).values_list(
            "solution_policy", "solution_after_attempts"
        )
    )
    if not rules:
        return Cohort.SolutionPolicy.AFTER_ATTEMPTS, settings.SOLUTION_AFTER_ATTEMPTS
    generosity = [
        Cohort.SolutionPolicy.NEVER,
        Cohort.SolutionPolicy.AFTER_PASSING,
        Cohort.SolutionPolicy.AFTER_ATTEMPTS,
        Cohort.SolutionPolicy.ALWAYS,
    ]
    return max(rules, key=lambda rule: (generosity.index(rule[0]), -rule[1]))


def _solution_open(policy: str, after: int, attempts: int, passed: bool, *, staff: bool) -> tuple[bool, str]:
    if staff:
        return True, "staff may always see it"
    if policy == Cohort.SolutionPolicy.ALWAYS:
        return True, "available whenever you want it"
    if policy == Cohort.SolutionPolicy.NEVER:
        return False, "your cohort does not show solutions"
    if passed:
        return True, "available: you passed this exercise"
    if policy == Cohort.SolutionPolicy.AFTER_PASSING:
        return False, "available once you pass this exercise"
    if attempts >= after:
        return True, f"available after {after} graded attempt(s): you made {attempts}"
    return False, f"available after {after} graded attempt(s) or a pass (you made {attempts})"
