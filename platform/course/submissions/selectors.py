"""Reads for submissions, with visibility rules in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from course.accounts.models import User
from course.cohorts.selectors import visible_learner_ids
from course.submissions.models import Regrade, Submission


def submissions_visible_to(user: User) -> QuerySet[Submission]:
    """A learner sees their own submissions; staff also those of learners in their cohorts."""
    qs = Submission.objects.select_related("exercise")
    if user.is_superuser:
        return qs
    if user.is_course_staff:
        return qs.filter(learner_id__in=[user.id, *visible_learner_ids(user)])
    return qs.filter(learner=user)


def regrade_status(*, regrade: Regrade) -> dict:
    """Progress of a regrade, and every learner whose score went down (their best score is kept)."""
    copies = list(regrade.submissions.select_related("learner", "regrade_of"))
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
        "total": regrade.total,
        "done": len(done),
        "finished": len(done) == regrade.total,
        "lowered": lowered,
    }
