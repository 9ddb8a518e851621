"""Business rules in the services: queues, stuck submissions, infrastructure failures, time on task."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from course.curriculum.models import Exercise, ExerciseVersion
from course.progress.models import ActivitySession
from course.progress.services import activity_record
from course.submissions.models import Submission
from course.submissions.services import (
    InfrastructureError,
    queue_for,
    requeue_stuck,
    submission_claim,
    submission_grade,
)
from tests.conftest import EXERCISES
from tests.platform.conftest import client_for, upload

pytestmark = pytest.mark.django_db
NUMPY_SOLUTION = (EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_bytes()


def _queued(learner) -> Submission:
    return Submission.objects.get(id=upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION).json()["id"])


def _queue_length(name: str) -> int:
    return redis.Redis.from_url(settings.REDIS_URL).llen(name)


@pytest.mark.parametrize(("gpu", "queue"), [("none", "cpu"), ("required", "gpu"), ("optional", "cpu")])
def test_queue_follows_the_exercise_gpu_field(gpu, queue):
    assert queue_for(ExerciseVersion(gpu=gpu)) == queue


def test_optional_gpu_exercises_go_where_configured():
    with override_settings(GRADING_OPTIONAL_GPU_QUEUE="gpu"):
        assert queue_for(ExerciseVersion(gpu="optional")) == "gpu"


def test_submission_is_enqueued_on_commit_to_its_queue(curriculum, learner, django_capture_on_commit_callbacks):
    before = _queue_length("cpu")
    with django_capture_on_commit_callbacks(execute=True):
        submission = _queued(learner)
    assert submission.queue == "cpu"
    assert _queue_length("cpu") == before + 1


def test_stuck_running_submission_goes_back_to_the_queue(curriculum, learner):
    submission = _queued(learner)
    submission_claim(submission_id=submission.id, worker="dead-worker")
    later = timezone.now() + timedelta(seconds=settings.GRADING_STUCK_AFTER_S + 1)
    assert requeue_stuck(now=timezone.now()) == 0  # not stuck yet
    assert requeue_stuck(now=later) == 1
    submission.refresh_from_db()
    assert (submission.status, submission.started_at, submission.attempts) == ("queued", None, 1)


def test_a_submission_that_keeps_killing_workers_is_failed_with_a_message(curriculum, learner):
    submission = _queued(learner)
    Submission.objects.filter(id=submission.id).update(
        status="running", attempts=settings.GRADING_MAX_ATTEMPTS, started_at=timezone.now() - timedelta(days=1)
    )
    assert requeue_stuck() == 0
    submission.refresh_from_db()
    assert submission.status == "error" and submission.verdict == "internal_error"
    assert "failed 3 times" in submission.result["output"]


def test_docker_unreachable_releases_the_claim_for_a_retry(curriculum, learner, monkeypatch):
    submission = _queued(learner)
    # A real unreachable daemon, not a mock: the Docker SDK tries this socket and fails.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    import sandbox.driver

    monkeypatch.setattr(sandbox.driver._local, "client", None, raising=False)
    with pytest.raises(InfrastructureError, match="could not grade"):
        submission_grade(submission_id=submission.id, worker="w")
    submission.refresh_from_db()
    assert submission.status == "queued" and submission.attempts == 1


def test_heartbeats_make_sessions_and_idle_gaps_do_not_count(curriculum, learner):
    exercise = Exercise.objects.get(slug="normalize-rows")
    t0 = timezone.now()
    for seconds, source in [(0, "web"), (60, "web"), (90, "cli"), (100, "web"), (1000, "web"), (1030, "cli")]:
        activity_record(
            learner_id=learner.id, exercise_id=exercise.id, source=source, at=t0 + timedelta(seconds=seconds)
        )
    sessions = list(ActivitySession.objects.order_by("started_at"))
    assert [s.seconds for s in sessions] == [100, 30]  # the 900 s gap is idle time
    assert sessions[0].sources == ["web", "cli"]
    # A heartbeat older than the session's last one adds nothing.
    activity_record(learner_id=learner.id, exercise_id=exercise.id, source="web", at=t0 + timedelta(seconds=1010))
    assert sum(ActivitySession.objects.values_list("seconds", flat=True)) == 130


def test_redis_down_at_submit_time_keeps_the_submission_for_the_periodic_job(
    curriculum, learner, settings, django_capture_on_commit_callbacks
):
    from course.config.celery import app

    def use_broker(url: str) -> None:
        app.conf.broker_url = url
        app._pool = None  # the connection pools are built from the URL on first use
        app.amqp._producer_pool = None

    use_broker("redis://127.0.0.1:1/0")  # a real refused connection: nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION)
    finally:
        use_broker(settings.CELERY_BROKER_URL)
    assert response.status_code == 202
    assert Submission.objects.get(id=response.json()["id"]).status == "queued"
