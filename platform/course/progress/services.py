"""Writes for progress: a graded submission updates the learner's standing; heartbeats add time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from course.accounts.models import User
from course.curriculum.models import Exercise
from course.curriculum.selectors import published_exercise
from course.errors import Conflict, Invalid
from course.progress.models import ActivityDay, ExerciseProgress, LearnerClock, Reveal
from course.progress.selectors import HelpView, help_for, require_open

# Full marks pass an exercise; partial credit counts toward the score but leaves it attempted.
PASS_FRACTION = 1.0


def progress_record_grade(
    *, learner_id: int, exercise_id: int, score: float, max_score: float, at: datetime, attempt: bool = True
) -> ExerciseProgress:
    """Fold one graded result into the learner's standing: the best score is kept, never lowered.

    ``attempt`` is False for regrades, which are not the learner's attempts.
    """
    progress, _ = ExerciseProgress.objects.select_for_update().get_or_create(
        learner_id=learner_id, exercise_id=exercise_id
    )
    if attempt:
        progress.attempts = F("attempts") + 1
    progress.max_score = max_score
    if score > progress.best_score:
        progress.best_score = score
    passed = max_score > 0 and score >= PASS_FRACTION * max_score
    if passed and progress.state != ExerciseProgress.State.PASSED:
        progress.state = ExerciseProgress.State.PASSED
        progress.passed_at = at
    elif progress.state == ExerciseProgress.State.NOT_STARTED:
        progress.state = ExerciseProgress.State.ATTEMPTED
    progress.save()
    progress.refresh_from_db()
    return progress


class ActivityRejected(Invalid):
    pass


# Trusted callers (tests, imports) may say when a heartbeat happened; it may not be in the future.
MAX_CLOCK_SKEW = timedelta(seconds=60)


@transaction.atomic
def activity_record(*, learner_id: int, exercise_id: int, source: str, at: datetime | None = None) -> int:
    """Credit active time from a heartbeat; returns the seconds credited.

    The learner has one timeline whatever the source (page, CLI, submission): the gap since their
    previous heartbeat, if shorter than the idle cutoff, is credited to this heartbeat's exercise.
    Two sources beating at once therefore count the time once, an idle gap counts nothing, and a
    heartbeat older than the last one (a clock gone backwards, a replay) adds nothing. ``at`` is
    server time; the API never passes a client's. Concurrent first heartbeats are safe: the rows
    are inserted if absent (a conflict is not an error), then locked.
    """
    now = timezone.now()
    at = at or now
    if at > now + MAX_CLOCK_SKEW:
        raise ActivityRejected("the heartbeat is from the future; check the clock of the sending machine")
    cutoff = timedelta(seconds=settings.ACTIVITY_IDLE_CUTOFF_S)
    LearnerClock.objects.bulk_create(
        [LearnerClock(learner_id=learner_id, last_seen_at=at, last_exercise_id=exercise_id)], ignore_conflicts=True
    )
    clock = LearnerClock.objects.select_for_update().get(learner_id=learner_id)
    credited = 0
    if at > clock.last_seen_at:
        gap = at - clock.last_seen_at
        if gap <= cutoff:
            credited = int(gap.total_seconds())
        clock.last_seen_at, clock.last_exercise_id = at, exercise_id
        clock.save(update_fields=["last_seen_at", "last_exercise"])
    ActivityDay.objects.bulk_create(
        [ActivityDay(learner_id=learner_id, exercise_id=exercise_id, day=at.date())], ignore_conflicts=True
    )
    ActivityDay.objects.filter(learner_id=learner_id, exercise_id=exercise_id, day=at.date()).update(
        seconds=F("seconds") + credited, heartbeats=F("heartbeats") + 1
    )
    return credited


def hint_reveal(*, learner: User, exercise_slug: str) -> HelpView:
    """Show the learner the next hint of the exercise (recorded); Conflict when every hint is shown."""
    exercise = published_exercise(slug=exercise_slug)
    require_open(learner=learner, exercise=exercise)
    shown = help_for(learner=learner, exercise=exercise, open_=True)
    if len(shown.hints) >= shown.hints_total:
        raise Conflict(
            f"all {shown.hints_total} hint(s) of {exercise_slug!r} are shown"
            if shown.hints_total
            else f"{exercise_slug!r} has no hints"
        )
    _record_reveal(learner, exercise, Reveal.Kind.HINT, len(shown.hints) + 1)
    return help_for(learner=learner, exercise=exercise, open_=True)


def solution_reveal(*, learner: User, exercise_slug: str) -> HelpView:
    """Show the learner the exercise's solution (recorded) if their cohort's rule allows it now."""
    exercise = published_exercise(slug=exercise_slug)
    require_open(learner=learner, exercise=exercise)
    shown = help_for(learner=learner, exercise=exercise, open_=True)
    if shown.solution is None:
        if not shown.solution_open:
            raise Conflict(f"the solution of {exercise_slug!r} is not available yet: {shown.solution_rule}")
        _record_reveal(learner, exercise, Reveal.Kind.SOLUTION, 0)
    return help_for(learner=learner, exercise=exercise, open_=True)


def _record_reveal(learner: User, exercise: Exercise, kind: str, number: int) -> None:
    # Two clicks at once reveal one hint: the unique constraint keeps the record single.
    Reveal.objects.get_or_create(
        learner=learner, exercise=exercise, kind=kind, number=number, defaults={"version": exercise.current_version}
    )
