"""Celery tasks: thin adapters that take an id and call the service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from course.submissions import services


@shared_task(
    bind=True,
    name="course.submissions.tasks.grade_submission",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.GRADING_TASK_TIME_LIMIT_S,
    soft_time_limit=settings.GRADING_TASK_TIME_LIMIT_S - 30,
    max_retries=5,
)
def grade_submission(self, submission_id: int) -> str:
    try:
        graded = services.submission_grade(submission_id=submission_id, worker=self.request.hostname or "worker")
    except services.InfrastructureError as exc:
        if self.request.retries >= self.max_retries:
            services.submission_fail(submission_id=submission_id, message="the grading service is unavailable")
            raise
        # Exponential backoff: 5, 10, 20, 40, 80 s.
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
    return graded.status if graded else "skipped"


@shared_task(name="course.submissions.tasks.requeue_stuck_submissions")
def requeue_stuck_submissions() -> int:
    return services.requeue_stuck()


@shared_task(name="course.submissions.tasks.regrade_fan_out")
def regrade_fan_out(regrade_id: int) -> int:
    return services.regrade_enqueue_all(regrade_id=regrade_id)
