"""Item statistics of an exercise, for its instructors: how hard it is, how well it tells apart the
learners who master its module from those who do not, and which of its tests look broken.

Everything is read from the learners' own graded submissions within what the viewer may see
(``learner_submissions_seen_by``: no staff work, no regrade copies). An attempt is a graded
submission: an internal error was the platform's failure, not the learner's try. A submission passes
with the same rule as the learner's progress (``PASS_FRACTION`` of the points). The number of
queries is fixed, whatever the number of learners and submissions.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date

from django.db.models import F, QuerySet

from course.accounts.models import User
from course.cohorts.export import Table
from course.curriculum.models import Exercise
from course.curriculum.selectors import exercise_get
from course.errors import Forbidden, NotFound
from course.progress.models import ActivityDay, ExerciseProgress, Reveal
from course.progress.selectors import HelpTaken, help_taken
from course.progress.services import PASS_FRACTION
from course.submissions.models import Submission, TestResult
from course.submissions.selectors import learner_submissions_seen_by, learners_seen_by

# Below this many learners a correlation is noise (with four, one learner changing their mind can flip
# its sign), and "most learners fail this test" is an anecdote: both are reported as not enough data.
MIN_LEARNERS = 5
# Learners may retry as often as they like, so a test that this share of them never passes is more
# often wrong (a tolerance too tight, a dtype or shape the statement never asked for) than hard: the
# page flags it for staff to look at first.
BROKEN_NEVER_PASSED_SHARE = 0.8
# ... once at least this many learners ran it.
BROKEN_MIN_LEARNERS = MIN_LEARNERS
# The failing tests listed first on the page.
MOST_FAILED_SHOWN = 5


@dataclass(frozen=True)
class Spread:
    """Median and quartiles (the inclusive method: NumPy's default linear interpolation) of ``n`` values."""

    q1: float
    median: float
    q3: float
    n: int


@dataclass(frozen=True)
class ItemTestStats:
    """One test of the exercise's current version, over the learners who ran it."""

    name: str
    learners_ran: int
    learners_passed: int  # passed it in at least one submission
    first_attempt_passed: int  # passed it the first time they ran it
    failures: int  # runs (test rows) that did not pass, all learners together
    # Correlation between passing this test in the learner's best submission and the share of the
    # exercise's other tests passed there; None below MIN_LEARNERS or without variance.
    discrimination: float | None

    @property
    def passed_share(self) -> float | None:
        return _share(self.learners_passed, self.learners_ran)

    @property
    def first_attempt_pass_rate(self) -> float | None:
        return _share(self.first_attempt_passed, self.learners_ran)

    @property
    def likely_broken(self) -> bool:
        if self.learners_ran < BROKEN_MIN_LEARNERS:
            return False
        # A quotient of integers is the float nearest to it, as the constant is: 4/5 is exactly at 0.8.
        return (self.learners_ran - self.learners_passed) / self.learners_ran >= BROKEN_NEVER_PASSED_SHARE


@dataclass(frozen=True)
class ExerciseItemStats:
    exercise: str  # the slug
    title: str
    version: str  # the current version's content hash ("" while there is none): what the tests belong to
    attempts: int  # graded learner submissions, every version
    learners: int  # learners with at least one
    passed: int  # learners with a passing submission of their own
    # Learners whose standing (progress) is passed: a regrade may have passed someone whose own
    # submissions did not, so this may be higher than ``passed``.
    standing_passed: int
    first_attempt_passed: int  # learners whose first graded submission passed
    attempts_to_pass: Spread | None  # over learners who passed: their attempts up to the first pass
    seconds_to_pass: Spread | None  # active time on the exercise up to the day they passed, where recorded
    other_exercises: int  # the module's other published exercises
    # Correlation between passing this exercise and the share of the module's other exercises passed,
    # over the learners who attempted it; None below MIN_LEARNERS, without variance or other exercises.
    discrimination: float | None
    tests: tuple[ItemTestStats, ...]
    # Help (progress.Reveal) among the learners the viewer sees: who looked at a hint, at the solution,
    # and who passed (their standing) after seeing the solution.
    hints_seen: int
    solution_seen: int
    passed_after_solution: int

    @property
    def pass_rate(self) -> float | None:
        return _share(self.passed, self.learners)

    @property
    def first_attempt_pass_rate(self) -> float | None:
        return _share(self.first_attempt_passed, self.learners)

    @property
    def broken_tests(self) -> tuple[ItemTestStats, ...]:
        return tuple(t for t in self.tests if t.likely_broken)

    @property
    def most_failed_tests(self) -> tuple[ItemTestStats, ...]:
        failing = sorted((t for t in self.tests if t.failures), key=lambda t: (-t.failures, t.name))
        return tuple(failing[:MOST_FAILED_SHOWN])


@dataclass(frozen=True)
class _Attempt:
    id: int
    score: float
    passed: bool
    day: date  # UTC, like ActivityDay's


def exercise_item_stats(*, slug: str, viewer: User) -> ExerciseItemStats:
    """The item statistics of the exercise over the learners ``viewer`` may see: course staff only
    (Forbidden), of an exercise that exists (NotFound)."""
    if not viewer.is_course_staff:
        raise Forbidden("only instructors and admins see exercise statistics")
    exercise = exercise_get(slug=slug)
    if exercise is None:
        raise NotFound(f"there is no exercise {slug!r}")
    seen = learner_submissions_seen_by(viewer)  # evaluates who is visible once; every query below reuses it
    graded = seen.filter(exercise=exercise, status=Submission.Status.GRADED)
    histories: dict[int, list[_Attempt]] = defaultdict(list)
    for sub_id, learner_id, score, max_score, queued_at in graded.order_by("queued_at", "id").values_list(
        "id", "learner_id", "score", "max_score", "queued_at"
    ):
        histories[learner_id].append(
            _Attempt(sub_id, score or 0.0, _passes(score, max_score), queued_at.astimezone(UTC).date())
        )
    attempted = graded.values("learner_id")
    first_pass = {
        learner_id: next(n for n, a in enumerate(history, start=1) if a.passed)
        for learner_id, history in histories.items()
        if any(a.passed for a in history)
    }
    # The module's other published exercises: what "the rest of the module" is for discrimination.
    others = list(
        Exercise.objects.filter(module_id=exercise.module_id, current_version__isnull=False)
        .exclude(id=exercise.id)
        .values_list("id", flat=True)
    )
    standing = ExerciseProgress.objects.filter(
        exercise=exercise, state=ExerciseProgress.State.PASSED, learner_id__in=attempted
    ).count()
    help_ = _help_taken(exercise, viewer)
    return ExerciseItemStats(
        exercise=exercise.slug,
        title=exercise.title,
        version=exercise.current_version.content_hash if exercise.current_version else "",
        attempts=sum(len(h) for h in histories.values()),
        learners=len(histories),
        passed=len(first_pass),
        standing_passed=standing,
        first_attempt_passed=sum(1 for n in first_pass.values() if n == 1),
        attempts_to_pass=_spread(list(first_pass.values())),
        seconds_to_pass=_spread(_seconds_to_pass(exercise, graded, histories, first_pass)),
        other_exercises=len(others),
        discrimination=_module_discrimination(seen, attempted, first_pass, others=others, learners=list(histories)),
        tests=_test_stats(exercise, graded, histories),
        hints_seen=sum(1 for h in help_ if h.hints),
        solution_seen=sum(1 for h in help_ if h.solution_at),
        passed_after_solution=sum(1 for h in help_ if h.passed_after_solution),
    )


def _help_taken(exercise: Exercise, viewer: User) -> list[HelpTaken]:
    # Every learner the viewer sees who revealed help, submitted or not: the solution may come first.
    return help_taken(Reveal.objects.filter(learners_seen_by(viewer), exercise=exercise))


def _passes(score: float | None, max_score: float) -> bool:
    return score is not None and max_score > 0 and score >= PASS_FRACTION * max_score


def _passing(qs: QuerySet[Submission]) -> QuerySet[Submission]:
    """``_passes`` in SQL."""
    return qs.filter(status=Submission.Status.GRADED, max_score__gt=0, score__gte=F("max_score") * PASS_FRACTION)


def _seconds_to_pass(
    exercise: Exercise, graded: QuerySet[Submission], histories: dict[int, list[_Attempt]], first_pass: dict[int, int]
) -> list[float]:
    """Active seconds on the exercise up to (and including) the day of each learner's first pass; learners
    with no recorded time (they worked without heartbeats) are left out rather than counted as zero."""
    pass_day = {learner_id: histories[learner_id][n - 1].day for learner_id, n in first_pass.items()}
    seconds: dict[int, int] = defaultdict(int)
    for learner_id, day, secs in ActivityDay.objects.filter(
        exercise=exercise, learner_id__in=_passing(graded).values("learner_id")
    ).values_list("learner_id", "day", "seconds"):
        if learner_id in pass_day and day <= pass_day[learner_id]:
            seconds[learner_id] += secs
    return [float(s) for s in seconds.values() if s > 0]


def _module_discrimination(
    seen: QuerySet[Submission],
    attempted: QuerySet[Submission],
    first_pass: dict[int, int],
    *,
    others: list[int],
    learners: list[int],
) -> float | None:
    """The corrected item-total correlation: passing this exercise against the share of the rest of its
    module passed (the exercise itself left out of the total, which would inflate the correlation)."""
    if not others:
        return None
    passed_others: dict[int, int] = defaultdict(int)
    for learner_id, _ in (
        _passing(seen.filter(exercise_id__in=others, learner_id__in=attempted))
        .values_list("learner_id", "exercise_id")
        .distinct()
    ):
        passed_others[learner_id] += 1
    xs = [1.0 if lid in first_pass else 0.0 for lid in learners]
    ys = [passed_others[lid] / len(others) for lid in learners]
    return _correlation(xs, ys)


def _test_stats(
    exercise: Exercise, graded: QuerySet[Submission], histories: dict[int, list[_Attempt]]
) -> tuple[ItemTestStats, ...]:
    """Per test of the current version: older versions had other tests, or the same names meaning other things."""
    if exercise.current_version_id is None:
        return ()
    outcomes: dict[int, dict[str, bool]] = defaultdict(dict)  # submission -> test -> passed
    for sub_id, name, status in TestResult.objects.filter(
        submission__in=graded.filter(version_id=exercise.current_version_id)
    ).values_list("submission_id", "name", "status"):
        outcomes[sub_id][name] = status == "passed"
    names = sorted({name for tests in outcomes.values() for name in tests})
    # Each learner's runs of the current version's tests in order, and the best of them (the highest
    # score; the earliest of equals, which is what they had when they first got there).
    runs = {
        learner_id: [outcomes[a.id] for a in history if a.id in outcomes]
        for learner_id, history in histories.items()
        if any(a.id in outcomes for a in history)
    }
    best = {
        learner_id: outcomes[max((a for a in history if a.id in outcomes), key=lambda a: a.score).id]
        for learner_id, history in histories.items()
        if learner_id in runs
    }
    stats = []
    for name in names:
        ran = [learner_id for learner_id, learner_runs in runs.items() if any(name in r for r in learner_runs)]
        first = [next(r[name] for r in runs[learner_id] if name in r) for learner_id in ran]
        others = [n for n in names if n != name]
        xs = [1.0 if best[learner_id].get(name) else 0.0 for learner_id in ran]
        ys = [sum(1 for n in others if best[learner_id].get(n)) / len(others) for learner_id in ran] if others else []
        stats.append(
            ItemTestStats(
                name=name,
                learners_ran=len(ran),
                learners_passed=sum(1 for lid in ran if any(r.get(name) for r in runs[lid])),
                first_attempt_passed=sum(first),
                failures=sum(1 for r in outcomes.values() if r.get(name) is False),
                discrimination=_correlation(xs, ys) if others else None,
            )
        )
    return tuple(stats)


def _spread(values: list[int] | list[float]) -> Spread | None:
    if not values:
        return None
    if len(values) == 1:  # statistics.quantiles needs two
        only = float(values[0])
        return Spread(only, only, only, 1)
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(q1, median, q3, len(values))


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r (the point-biserial one when ``xs`` is 0/1); None below MIN_LEARNERS or when either
    side does not vary (everybody passed, say: the item tells nobody apart)."""
    if len(xs) < MIN_LEARNERS or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# The CSV: one row per exercise-level figure, then one per test.
TABLE_COLUMNS = (
    "kind",
    "name",
    "value",
    "learners_ran",
    "learners_passed",
    "passed_share",
    "first_attempt_pass_rate",
    "discrimination",
    "likely_broken",
)


def item_stats_table(stats: ExerciseItemStats) -> Table:
    """The statistics as one sheet; a figure without enough data is an empty cell, rates have 4 decimals."""
    attempts, seconds = stats.attempts_to_pass, stats.seconds_to_pass
    figures: list[tuple[str, float | int | str | None]] = [
        ("version", stats.version),
        ("attempts", stats.attempts),
        ("learners", stats.learners),
        ("passed", stats.passed),
        ("pass_rate", stats.pass_rate),
        ("standing_passed", stats.standing_passed),
        ("first_attempt_passed", stats.first_attempt_passed),
        ("first_attempt_pass_rate", stats.first_attempt_pass_rate),
        ("attempts_to_pass_q1", attempts.q1 if attempts else None),
        ("attempts_to_pass_median", attempts.median if attempts else None),
        ("attempts_to_pass_q3", attempts.q3 if attempts else None),
        ("seconds_to_pass_median", seconds.median if seconds else None),
        ("seconds_to_pass_learners", seconds.n if seconds else 0),
        ("other_exercises_in_module", stats.other_exercises),
        ("discrimination", stats.discrimination),
        ("likely_broken_tests", len(stats.broken_tests)),
        ("learners_who_saw_a_hint", stats.hints_seen),
        ("learners_who_saw_the_solution", stats.solution_seen),
        ("passed_after_seeing_the_solution", stats.passed_after_solution),
    ]
    rows: list[dict[str, object]] = [{"kind": "exercise", "name": name, "value": _cell(v)} for name, v in figures]
    rows += [
        {
            "kind": "test",
            "name": t.name,
            "learners_ran": t.learners_ran,
            "learners_passed": t.learners_passed,
            "passed_share": _cell(t.passed_share),
            "first_attempt_pass_rate": _cell(t.first_attempt_pass_rate),
            "discrimination": _cell(t.discrimination),
            "likely_broken": t.likely_broken,
        }
        for t in stats.tests
    ]
    return Table(TABLE_COLUMNS, rows)


def _cell(value: float | int | str | None) -> float | int | str:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value
