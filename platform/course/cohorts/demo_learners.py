"""Synthetic learners for the demo cohort: weeks of graded attempts, hints and solutions seen, modules
tested out of and time on task, on the real published exercises, so that every page, chart and report
shows something on a first run.

Deterministic for a seed. Each learner has a skill (how often an attempt passes), a pace (how their
time compares with the estimates) and a start day; some already know Python and NumPy and test out
of them with the checkpoints; some stop after a while (the dashboard's stuck learners). Prerequisites
are respected as a learner meets them. Usernames start with ``synthetic-``; their passwords are
unusable. Rows are bulk-inserted: a few dozen learners take about a second.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from course.accounts.models import User
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise, Module
from course.progress.models import ActivityDay, ExerciseProgress, Reveal
from course.submissions.models import Submission, TestResult
from grader.help import bundle_help

PREFIX = "synthetic-"
NOTEBOOK = "submissions/synthetic/demo.ipynb"  # one placeholder file every synthetic submission points at
# Modules a "knows the basics" learner tests out of with their checkpoints.
KNOWN_BASICS = ("python", "numpy")
MAX_ATTEMPTS = 6
WEEKS = 6


@dataclass
class _Item:
    exercise: Exercise
    tests: list[tuple[str, float]]  # (name, points) of the current version's tests
    minutes: float
    hints: int  # what the bundle has to reveal: nobody sees a hint or solution that is not there
    has_solution: bool


@dataclass
class _Learner:
    user: User
    skill: float
    pace: float
    clock: datetime
    stops_at: datetime
    knows_basics: bool
    satisfied: set[str] = field(default_factory=set)


def populate(cohort: Cohort, *, count: int, seed: int = 0, weeks: int = WEEKS, now: datetime | None = None) -> int:
    """Add ``count`` synthetic learners and their history to ``cohort`` (none if it has some already)."""
    if count <= 0 or cohort.enrollments.filter(user__username__startswith=PREFIX).exists():
        return 0
    rng = random.Random(seed)
    now = now or timezone.now()
    course = _course()
    if not course:
        return 0
    if not default_storage.exists(NOTEBOOK):
        default_storage.save(
            NOTEBOOK, ContentFile(b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
        )
    taken = set(User.objects.filter(username__startswith=PREFIX).values_list("username", flat=True))
    names = [n for n in (f"{PREFIX}{i:03d}" for i in range(1, count * 2 + len(taken) + 1)) if n not in taken][:count]
    users = User.objects.bulk_create(
        User(username=name, role=User.Role.LEARNER, password=make_password(None)) for name in names
    )
    Enrollment.objects.bulk_create(Enrollment(cohort=cohort, user=u, role=Enrollment.Role.LEARNER) for u in users)
    rows = _Rows()
    for user in users:
        start = now - timedelta(weeks=weeks) + timedelta(days=rng.uniform(0, 10))
        learner = _Learner(
            user=user,
            skill=rng.uniform(0.35, 0.9),
            pace=rng.lognormvariate(0, 0.45),
            clock=start,
            stops_at=now if rng.random() > 0.2 else start + timedelta(days=rng.uniform(5, 25)),
            knows_basics=rng.random() < 0.25,
        )
        _work(learner, course, rng, rows, min(now, learner.stops_at))
    rows.save()
    return len(users)


def _course() -> list[tuple[Module, list[str], list[_Item]]]:
    """Modules in order with their prerequisites and published exercises (and each one's tests)."""
    course = []
    for module in Module.objects.prefetch_related("requires").order_by("position"):
        items = []
        for exercise in module.exercises.select_related("current_version").exclude(current_version=None):
            version = exercise.current_version
            tests = _tests(Path(version.bundle_path) / "tests")
            if sum(points for _, points in tests) != version.points:  # markers it lacks: one test worth all
                tests = [("test_reference", version.points)]
            minutes = version.estimated_minutes or 60 * module.estimated_hours / 4
            help_ = bundle_help(Path(version.bundle_path))
            items.append(_Item(exercise, tests, minutes, len(help_.hints), bool(help_.solution)))
        course.append((module, [r.slug for r in module.requires.all()], items))
    return course


def _tests(folder: Path) -> list[tuple[str, float]]:
    """The test functions of a bundle's test files, with their points (as the judge names them, roughly)."""
    found = []
    for path in sorted(folder.glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.append((node.name, _points(node)))
    return found


def _points(node: ast.FunctionDef) -> float:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "points" and decorator.args:
            value = decorator.args[0]
            if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
                return float(value.value)
    return 1.0


def _work(learner: _Learner, course, rng: random.Random, rows: _Rows, until: datetime) -> None:
    for module, requires, items in course:
        if not set(requires) <= learner.satisfied:
            continue  # locked for them: they never got there
        checkpoints = [i for i in items if i.exercise.checkpoint]
        testing_out = learner.knows_basics and module.slug in KNOWN_BASICS and bool(checkpoints)
        todo = checkpoints if testing_out else items
        passed_all = True
        for item in todo:
            if learner.clock >= until:
                return
            passed_all &= _attempt(learner, item, rng, rows, quick=testing_out)
        if passed_all and todo:
            learner.satisfied.add(module.slug)
        elif not items:
            learner.satisfied.add(module.slug)  # nothing to do holds nothing up
        # A learner stuck on a module goes on with the others it does not block.


def _attempt(learner: _Learner, item: _Item, rng: random.Random, rows: _Rows, *, quick: bool) -> bool:
    """One learner working through one exercise: submissions, hints, maybe the solution, and the time."""
    exercise, version = item.exercise, item.exercise.current_version
    minutes = item.minutes * (0.3 if quick else learner.pace * rng.lognormvariate(0, 0.35))
    skill = 0.95 if quick else learner.skill
    attempts, passed, hints, solution, best = 0, False, 0, False, 0.0
    for attempts in range(1, MAX_ATTEMPTS + 1):
        if rng.random() < skill or (solution and rng.random() < 0.9):
            passed = True
            break
        # The draws come first: what a bundle offers must not change the rest of the random history.
        if attempts >= 2 and rng.random() < 0.5 and hints < item.hints:
            hints += 1
        if attempts >= 3 and not solution and rng.random() < 0.35 and item.has_solution:
            solution = True
        elif attempts >= 2 and rng.random() < 0.6 * (1 - skill):
            break  # gives up on it for now: the weaker the learner, the sooner
    spent = timedelta(minutes=minutes * (1 + 0.3 * (attempts - 1)))
    start = learner.clock + timedelta(hours=rng.uniform(2, 40) * learner.pace)  # evenings and weekends
    times = sorted(start + spent * rng.random() for _ in range(attempts))
    times[-1] = start + spent
    total = max(60, int(spent.total_seconds()))
    rows.activity(learner.user, exercise, start, total)
    for n, at in enumerate(times, start=1):
        ok = passed and n == attempts
        results = [(name, points, ok or rng.random() < skill) for name, points in item.tests]
        if not ok and all(r[2] for r in results):  # a failed attempt fails at least one test
            name, points, _ = results[rng.randrange(len(results))]
            results = [(n_, p, n_ != name) for n_, p, _ in results]
        best = max(best, rows.submission(learner.user, exercise, at, results))
    for number in range(1, hints + 1):
        rows.reveal(learner.user, exercise, Reveal.Kind.HINT, number, times[min(number, attempts - 1)])
    if solution:
        rows.reveal(learner.user, exercise, Reveal.Kind.SOLUTION, 0, times[-1] - timedelta(minutes=10))
    rows.progress.append(
        ExerciseProgress(
            learner=learner.user,
            exercise=exercise,
            state=ExerciseProgress.State.PASSED if passed else ExerciseProgress.State.ATTEMPTED,
            best_score=best,
            max_score=version.points,
            attempts=attempts,
            passed_at=times[-1] if passed else None,
        )
    )
    learner.clock = times[-1]
    return passed


class _Rows:
    """What the learners did, inserted in bulk at the end (times set after: the models stamp their own)."""

    def __init__(self) -> None:
        self.submissions: list[tuple[Submission, datetime, list[tuple[str, float, bool]]]] = []
        self.reveals: list[tuple[Reveal, datetime]] = []
        self.days: dict[tuple[int, int, object], ActivityDay] = {}
        self.progress: list[ExerciseProgress] = []

    def submission(self, user, exercise, at, results) -> float:
        """A graded submission with one TestResult per test; returns its score."""
        version = exercise.current_version
        row = Submission(
            learner=user,
            exercise=exercise,
            version=version,
            notebook=NOTEBOOK,
            status=Submission.Status.GRADED,
            verdict="graded",
            score=sum(points for _, points, ok in results if ok),
            max_score=sum(points for _, points, _ in results),
            environment=version.environment,
            started_at=at + timedelta(seconds=1),
            finished_at=at + timedelta(seconds=3),
            attempts=1,
        )
        self.submissions.append((row, at, results))
        return row.score

    def reveal(self, user, exercise, kind, number, at) -> None:
        row = Reveal(learner=user, exercise=exercise, version=exercise.current_version, kind=kind, number=number)
        self.reveals.append((row, at))

    def activity(self, user, exercise, start: datetime, seconds: int) -> None:
        """Spread over the days from ``start``, about two hours a day at most."""
        day, left = start, seconds
        while left > 0:
            chunk = min(left, 7200)
            key = (user.id, exercise.id, day.date())
            row = self.days.setdefault(key, ActivityDay(learner=user, exercise=exercise, day=day.date()))
            row.seconds += chunk
            row.heartbeats += max(1, chunk // 60)
            left -= chunk
            day += timedelta(days=1)

    def save(self) -> None:
        created = Submission.objects.bulk_create(row for row, _, _ in self.submissions)
        for row, (_, at, _) in zip(created, self.submissions, strict=True):
            row.queued_at = at
        Submission.objects.bulk_update(created, ["queued_at"], batch_size=500)
        TestResult.objects.bulk_create(
            (
                TestResult(
                    submission=row,
                    name=name,
                    status="passed" if ok else "failed",
                    score=points if ok else 0.0,
                    max_score=points,
                    visibility="hidden",
                )
                for row, (_, _, results) in zip(created, self.submissions, strict=True)
                for name, points, ok in results
            ),
            batch_size=1000,
        )
        reveals = Reveal.objects.bulk_create(row for row, _ in self.reveals)
        for row, (_, at) in zip(reveals, self.reveals, strict=True):
            row.revealed_at = at
        Reveal.objects.bulk_update(reveals, ["revealed_at"], batch_size=500)
        ActivityDay.objects.bulk_create(self.days.values(), batch_size=1000)
        ExerciseProgress.objects.bulk_create(self.progress, batch_size=1000)
