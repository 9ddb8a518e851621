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


def learners_seen_by(viewer: User) -> Q:
    """Rows (with a ``learner``) of learners, not staff, within what ``viewer`` may see: statistics."""
    learners = Q(learner__role=User.Role.LEARNER, learner__is_superuser=False)
    return learners if sees_every_cohort(viewer) else learners & Q(learner_id__in=visible_learner_ids(viewer))


def learner_submissions_seen_by(viewer: User) -> QuerySet[Submission]:
    """Learners' own submissions (no staff's, no regrade copies) within what ``viewer`` may see: statistics."""
    return Submission.objects.filter(learners_seen_by(viewer), regrade=None)


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


def exercise_recent_errors(*, slug: str, viewer: User, limit: int = 10) -> list[Submission]:
    """The learners' latest submissions of ``exercise`` that did not grade normally (timeouts, crashes, internal
    errors), newest first: the statistics page's list of what went wrong. The figures are in ``item_stats``."""
    seen = learner_submissions_seen_by(viewer).filter(exercise__slug=slug)
    return list(seen.exclude(verdict__in=["", "graded"]).select_related("learner").order_by("-queued_at")[:limit])


def queue_position(*, submission: Submission) -> int | None:
    """How many submissions of the same queue wait ahead of this one (None once it left the queue)."""
    if submission.status != Submission.Status.QUEUED:
        return None
    return Submission.objects.filter(
        queue=submission.queue, status=Submission.Status.QUEUED, queued_at__lt=submission.queued_at
    ).count()
