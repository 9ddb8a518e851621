"""The Celery app: a Redis broker, one task per submission, `cpu` and `gpu` queues."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.config.settings")

app = Celery("course")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.GRADING_REQUEUE_EVERY_S,
        sender.signature("course.submissions.tasks.requeue_stuck_submissions", queue="cpu"),
        name="re-enqueue stuck submissions",
    )
