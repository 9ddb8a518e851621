"""How long each module and each step of the published path really takes: the time report.

Counted: active time (``ActivityDay``: heartbeats from the exercise page and the CLI, and
submissions) of the learners enrolled in a cohort, per module over the learners who *completed*
it (every exercise passed, ``ModuleState.COMPLETE``), and per step over the learners who completed
every module of the step that has exercises. A module a learner tested out of, or has not
finished, is not counted: its time would say how long it takes to skip or to stop, not to learn.

Figures of a group smaller than the minimum (``TIME_REPORT_MIN_GROUP``) are never computed into
the report, so no page, file or API built from it can show them: with two or three learners a
median is one person's time.

The queries are the same whatever the number of learners: one for the learners, one for the
steps, and ``standings()``'s fixed set. The pages and the API share a computed report for
``TIME_REPORT_CACHE_S`` (it is public, and costs a few hundred ms at thousands of learners; hours
built over weeks do not change in minutes), and say when it was computed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils import timezone

from course.accounts.models import User
from course.cohorts.export import Table
from course.cohorts.models import Enrollment
from course.cohorts.selectors import staff_cohort_ids
from course.curriculum.models import Step
from course.errors import Forbidden, NotFound
from course.progress.selectors import ModuleState, curriculum, standings

# Quartiles are computed with statistics.quantiles(hours, n=4, method="inclusive"): linear
# interpolation between order statistics at position (n - 1) * p, the same as NumPy's default and
# R's type 7, so the median is the middle quartile and the quartiles lie within the data.
QUARTILE_METHOD = 'statistics.quantiles(hours, n=4, method="inclusive")'


@dataclass(frozen=True, slots=True)
class Hours:
    """Active hours of a group of learners: how many, and the quartiles of their hours."""

    n: int
    q1: float
    median: float
    q3: float


@dataclass(frozen=True, slots=True)
class ModuleTime:
    slug: str
    title: str
    step: str | None
    estimated_hours: float
    exercises: int
    # None when fewer than the minimum group completed the module: nothing is shown, not even n.
    hours: Hours | None
    share_above_estimate: float | None


@dataclass(frozen=True, slots=True)
class StepTime:
    slug: str
    title: str
    modules: tuple[str, ...]
    published_low_hours: float
    published_high_hours: float
    hours: Hours | None
    share_above_range: float | None
    share_below_range: float | None


@dataclass(frozen=True, slots=True)
class TimeReport:
    cohort_id: int | None
    min_group: int
    # Learners enrolled (in the cohort, or in any cohort) whose work was looked at.
    learners: int
    steps: list[StepTime]
    modules: list[ModuleTime]
    computed_at: datetime

    @property
    def below_minimum(self) -> str:
        return f"fewer than {self.min_group} learners"


def hours_summary(hours: Sequence[float]) -> Hours:
    """n, first quartile, median and third quartile of ``hours`` (the method: ``QUARTILE_METHOD``)."""
    if not hours:
        raise ValueError("no hours to summarise")
    if len(hours) == 1:  # statistics.quantiles needs two points; one learner's hours are all three
        return Hours(1, hours[0], hours[0], hours[0])
    q1, median, q3 = statistics.quantiles(hours, n=4, method="inclusive")
    return Hours(len(hours), q1, median, q3)


def _share_above(hours: Sequence[float], limit: float) -> float:
    return sum(h > limit for h in hours) / len(hours)


def _share_below(hours: Sequence[float], limit: float) -> float:
    return sum(h < limit for h in hours) / len(hours)


def time_report(*, cohort_id: int | None = None, min_group: int | None = None) -> TimeReport:
    """Hours per module and per step over the learners who completed them (all cohorts, or one)."""
    min_group = max(1, settings.TIME_REPORT_MIN_GROUP if min_group is None else min_group)
    enrolled = Enrollment.objects.filter(role=Enrollment.Role.LEARNER)
    if cohort_id is not None:
        enrolled = enrolled.filter(cohort_id=cohort_id)
    learner_ids = list(enrolled.order_by().values_list("user_id", flat=True).distinct())
    steps = list(Step.objects.all())
    course = curriculum()
    table = standings(learner_ids=learner_ids, course=course, detail=False)

    # Per module (curriculum order), learner id -> hours, for the learners who completed it. A module
    # with no exercises yet is complete for everyone and holds no time: it has no completers here.
    completed: list[dict[int, float]] = [{} for _ in course.modules]
    has_exercises = [bool(course.exercises.get(module.id)) for module in course.modules]
    for lid in learner_ids:
        for i, standing in enumerate(table[lid]):
            if has_exercises[i] and standing.state == ModuleState.COMPLETE:
                completed[i][lid] = standing.time_s / 3600

    def summary(hours: list[float]) -> Hours | None:
        return hours_summary(hours) if len(hours) >= min_group else None

    step_slug = {step.id: step.slug for step in steps}
    modules = []
    for i, module in enumerate(course.modules):
        hours = list(completed[i].values())
        figures = summary(hours)
        estimate = module.estimated_hours
        modules.append(
            ModuleTime(
                module.slug,
                module.title,
                step_slug.get(module.step_id),
                estimate,
                len(course.exercises.get(module.id, [])),
                figures,
                _share_above(hours, estimate) if figures else None,
            )
        )

    step_times = []
    for step in steps:
        members = [i for i, module in enumerate(course.modules) if module.step_id == step.id]
        # The step's learners completed each of its modules that has exercises (so a step made only of
        # modules without exercises has none), and their hours are the sum over those modules.
        counted = [i for i in members if has_exercises[i]]
        finishers = set.intersection(*(set(completed[i]) for i in counted)) if counted else set()
        hours = [sum(completed[i][lid] for i in counted) for lid in sorted(finishers)]
        figures = summary(hours)
        low, high = step.published_low_hours, step.published_high_hours
        step_times.append(
            StepTime(
                step.slug,
                step.title,
                tuple(course.modules[i].slug for i in members),
                low,
                high,
                figures,
                _share_above(hours, high) if figures else None,
                _share_below(hours, low) if figures else None,
            )
        )
    return TimeReport(cohort_id, min_group, len(learner_ids), step_times, modules, timezone.now())


def _shared_report(cohort_id: int | None) -> TimeReport:
    """``time_report`` as computed at most ``TIME_REPORT_CACHE_S`` ago (0: every time)."""
    if settings.TIME_REPORT_CACHE_S <= 0:
        return time_report(cohort_id=cohort_id)
    key = f"time-report:{cohort_id}:{settings.TIME_REPORT_MIN_GROUP}"
    report = cache.get(key)
    if report is None:
        report = time_report(cohort_id=cohort_id)
        cache.set(key, report, settings.TIME_REPORT_CACHE_S)
    return report


def time_report_for(*, viewer: User | AnonymousUser, cohort: str | None = None) -> TimeReport:
    """The report as ``viewer`` may see it, the one access rule of the page, its CSV and the API.

    Anyone when ``TIME_REPORT_PUBLIC`` (it holds only aggregates of groups above the minimum),
    otherwise course staff (Forbidden). ``cohort`` (the raw ``?cohort=`` value) narrows it to one
    cohort the viewer staffs, or any for organisers; any other value is NotFound, as for the
    cohort pages: a cohort's existence is not everyone's to know.
    """
    staff = viewer.is_authenticated and viewer.is_course_staff
    if not (settings.TIME_REPORT_PUBLIC or staff):
        raise Forbidden("the time report is open to course staff only")
    if cohort in (None, ""):
        return _shared_report(None)
    try:
        cohort_id = int(cohort)
    except ValueError:
        raise NotFound("no such cohort") from None
    if not viewer.is_authenticated or cohort_id not in staff_cohort_ids(viewer):
        raise NotFound("no such cohort")
    return _shared_report(cohort_id)


def _figure(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _hours_fields(hours: Hours | None) -> dict[str, Any]:
    """n and the quartiles of a group, each None below the minimum."""
    return {
        "learners": hours.n if hours else None,
        "q1_hours": _figure(hours.q1) if hours else None,
        "median_hours": _figure(hours.median) if hours else None,
        "q3_hours": _figure(hours.q3) if hours else None,
    }


def report_rows(report: TimeReport) -> dict[str, list[dict[str, Any]]]:
    """The report as plain rows (the API's JSON): a group below the minimum has None for every figure."""
    note = report.below_minimum
    steps = [
        {
            "slug": s.slug,
            "title": s.title,
            "modules": list(s.modules),
            "published_low_hours": s.published_low_hours,
            "published_high_hours": s.published_high_hours,
            **_hours_fields(s.hours),
            "share_above_range": _figure(s.share_above_range),
            "share_below_range": _figure(s.share_below_range),
            "note": "" if s.hours else note,
        }
        for s in report.steps
    ]
    modules = [
        {
            "slug": m.slug,
            "title": m.title,
            "step": m.step,
            "estimated_hours": m.estimated_hours,
            **_hours_fields(m.hours),
            "share_above_estimate": _figure(m.share_above_estimate),
            "note": "" if m.hours else ("no exercises yet" if not m.exercises else note),
        }
        for m in report.modules
    ]
    return {"steps": steps, "modules": modules}


CSV_COLUMNS = (
    "kind",
    "slug",
    "title",
    "step",
    "learners",
    "q1_hours",
    "median_hours",
    "q3_hours",
    "estimated_hours",
    "published_low_hours",
    "published_high_hours",
    "share_above",
    "share_below",
    "note",
)


def report_csv(report: TimeReport) -> str:
    """One sheet: a row per step, then per module. ``share_above`` is the share of learners above the
    top of the step's published range, or above the module's estimate; ``share_below``, below the
    bottom of the range. A group below the minimum has empty figures and the note says why."""
    rows = report_rows(report)
    out = [
        {
            "kind": "step",
            "step": s["slug"],
            "share_above": s["share_above_range"],
            "share_below": s["share_below_range"],
            **{k: v for k, v in s.items() if k in CSV_COLUMNS},
        }
        for s in rows["steps"]
    ]
    out += [
        {"kind": "module", "share_above": m["share_above_estimate"], **{k: v for k, v in m.items() if k in CSV_COLUMNS}}
        for m in rows["modules"]
    ]
    return Table(CSV_COLUMNS, out).csv()


def report_filename(report: TimeReport) -> str:
    return f"time-report-cohort-{report.cohort_id}.csv" if report.cohort_id is not None else "time-report.csv"
