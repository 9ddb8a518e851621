"""Writes for progress: a graded submission updates the learner's standing; heartbeats add time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from course.progress.models import ActivitySession, ExerciseProgress

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


@transaction.atomic
def activity_record(*, learner_id: int, exercise_id: int, source: str, at: datetime | None = None) -> ActivitySession:
    """Credit active time: a heartbeat within the idle cutoff of the last one extends its session.

    Time is measured on the server's clock, so a client's clock cannot add time; two sources
    beating at once (the page and the CLI) extend the same session and are counted once.
    """
    at = at or timezone.now()
    cutoff = timedelta(seconds=settings.ACTIVITY_IDLE_CUTOFF_S)
    session = (
        ActivitySession.objects.select_for_update()
        .filter(learner_id=learner_id, exercise_id=exercise_id, last_seen_at__gte=at - cutoff)
        .order_by("-last_seen_at")
        .first()
    )
    if session is None:
        return ActivitySession.objects.create(
            learner_id=learner_id, exercise_id=exercise_id, started_at=at, last_seen_at=at, sources=[source]
        )
    if at > session.last_seen_at:
        session.seconds += int((at - session.last_seen_at).total_seconds())
        session.last_seen_at = at
    if source not in session.sources:
        session.sources = [*session.sources, source]
    session.save(update_fields=["seconds", "last_seen_at", "sources"])
    return session
