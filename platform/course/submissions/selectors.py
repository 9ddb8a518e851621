"""Reads for submissions, with visibility rules in one place."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from course.accounts.models import User
from course.cohorts.selectors import learner_ids_visible_to, sees_every_cohort, visible_learner_ids
from course.submissions.models import Regrade, Submission


def submissions_visible_to(user: User) -> QuerySet[Submission]:
    """A learner sees their own submissions; instructors also their cohorts' learners'; organisers all."""
    qs = Submission.objects.select_related("exercise")
    ids = learner_ids_visible_to(user)
    return qs if ids is None else qs.filter(learner_id__in=ids)


def learner_submissions_seen_by(viewer: User) -> QuerySet[Submission]:
    """Learners' own submissions (no staff's, no regrade copies) within what ``viewer`` may see: statistics."""
    qs = Submission.objects.filter(regrade=None, learner__role=User.Role.LEARNER, learner__is_superuser=False)
    return qs if sees_every_cohort(viewer) else qs.filter(learner_id__in=visible_learner_ids(viewer))


def regrades_visible_to(viewer: User) -> QuerySet[Regrade]:
    """Regrades for staff who requested them or who see at least one learner they regrade."""
    qs = Regrade.objects.select_related("exercise", "version", "requested_by")
    if not viewer.is_course_staff:
        return qs.none()
    ids = learner_ids_visible_to(viewer)
    if ids is None:
        return qs
    seen = Submission.objects.filter(regrade__isnull=False, learner_id__in=ids).values("regrade_id")
    return qs.filter(Q(requested_by=viewer) | Q(id__in=seen))


def regrade_visible_to(*, regrade_id: int, viewer: User) -> Regrade | None:
    return regrades_visible_to(viewer).filter(id=regrade_id).first()


def _copies_seen_by(regrade: Regrade, viewer: User) -> QuerySet[Submission]:
    ids = learner_ids_visible_to(viewer)
    return regrade.submissions.all() if ids is None else regrade.submissions.filter(learner_id__in=ids)


def regrade_status(*, regrade: Regrade, viewer: User) -> dict:
    """Progress of a regrade, and every learner whose score went down (their best score is kept), counting
    only the learners ``viewer`` may see."""
    copies = list(_copies_seen_by(regrade, viewer).select_related("learner", "regrade_of"))
    done = [c for c in copies if c.status in (Submission.Status.GRADED, Submission.Status.ERROR)]
    lowered = [
        {"learner": c.learner.username, "submission": c.regrade_of_id, "before": c.regrade_of.score, "after": c.score}
        for c in done
        if c.score is not None and c.regrade_of.score is not None and c.score < c.regrade_of.score
    ]
    return {
        "id": regrade.id,
        "exercise": regrade.exercise.slug,
        "version": regrade.version.content_hash,
        "total": len(copies),
        "done": len(done),
        "finished": len(done) == len(copies),
        "lowered": lowered,
    }


def exercise_stats(*, exercise, viewer: User) -> dict:
    """What an instructor wants to know about an exercise: their cohorts' learners' own submissions."""
    import statistics
    from collections import Counter, defaultdict

    from django.db.models import Count, Sum

    from course.progress.models import ActivityDay, ExerciseProgress
    from course.submissions.models import TestResult

    seen = learner_submissions_seen_by(viewer).filter(exercise=exercise)
    rows = list(seen.order_by("queued_at").values_list("learner_id", "score", "max_score", "status"))
    by_learner: dict[int, list[tuple]] = defaultdict(list)
    for learner_id, score, max_score, status in rows:
        by_learner[learner_id].append((score, max_score, status))
    attempts_to_pass = []
    for attempts in by_learner.values():
        for n, (score, max_score, status) in enumerate(attempts, start=1):
            if status == Submission.Status.GRADED and score is not None and score >= max_score > 0:
                attempts_to_pass.append(n)
                break
    passed_ids = list(
        ExerciseProgress.objects.filter(
            exercise=exercise, state=ExerciseProgress.State.PASSED, learner_id__in=seen.values("learner_id")
        ).values_list("learner_id", flat=True)
    )
    times = [
        t
        for t in ActivityDay.objects.filter(exercise=exercise, learner_id__in=passed_ids)
        .values("learner_id")
        .annotate(t=Sum("seconds"))
        .values_list("t", flat=True)
    ]
    failing = Counter(
        dict(
            TestResult.objects.filter(submission__in=seen)
            .exclude(status="passed")
            .values_list("name")
            .annotate(n=Count("id"))
            .order_by("-n")[:5]
        )
    )
    errors = list(seen.exclude(verdict__in=["", "graded"]).select_related("learner").order_by("-queued_at")[:10])
    learners = len(by_learner)
    return {
        "exercise": exercise,
        "attempts": len(rows),
        "learners": learners,
        "passed": len(passed_ids),
        "pass_rate": len(passed_ids) / learners if learners else 0.0,
        "median_attempts_to_pass": statistics.median(attempts_to_pass) if attempts_to_pass else None,
        "median_seconds_to_pass": statistics.median(times) if times else None,
        "failing_tests": failing.most_common(5),
        "recent_errors": errors,
    }


def queue_position(*, submission: Submission) -> int | None:
    """How many submissions of the same queue wait ahead of this one (None once it left the queue)."""
    if submission.status != Submission.Status.QUEUED:
        return None
    return Submission.objects.filter(
        queue=submission.queue, status=Submission.Status.QUEUED, queued_at__lt=submission.queued_at
    ).count()
