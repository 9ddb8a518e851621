"""Business rules in the services: queues, stuck submissions, infrastructure failures, time on task."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from course.curriculum.models import Exercise, ExerciseVersion
from course.progress.models import ActivityDay
from course.progress.services import activity_record
from course.submissions.models import Submission
from course.submissions.services import (
    InfrastructureError,
    queue_for,
    requeue_stuck,
    submission_claim,
    submission_grade,
    submission_record,
)
from grader.host_load import PSI_CPU
from tests.platform.support import client_for, upload
from tests.support import EXERCISES

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


def test_time_on_task_rules(curriculum, learner):
    """One timeline per learner: idle gaps, overlapping sources and old heartbeats add nothing."""
    numpy_ex = Exercise.objects.get(slug="normalize-rows")
    attention = Exercise.objects.get(slug="causal-attention-pattern")
    # Yesterday at noon: every heartbeat below falls on one day, whenever the test runs.
    t0 = (timezone.now() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)

    def beat(seconds, source="web", exercise=numpy_ex):
        return activity_record(
            learner_id=learner.id, exercise_id=exercise.id, source=source, at=t0 + timedelta(seconds=seconds)
        )

    assert beat(0) == 0  # the first heartbeat starts the clock
    assert beat(60) == 60
    assert beat(90, "cli") == 30  # the page and the CLI beat together: counted once
    assert beat(100) == 10
    assert beat(1000) == 0  # 900 s of idle time (cutoff 300 s) is not counted
    assert beat(1030, "cli", attention) == 30  # the gap goes to the exercise worked on now
    assert beat(1010) == 0  # older than the last heartbeat (a clock gone back, a replay): nothing
    days = {(d.exercise.slug, d.seconds, d.heartbeats) for d in ActivityDay.objects.select_related("exercise")}
    assert days == {("normalize-rows", 100, 6), ("causal-attention-pattern", 30, 1)}


def test_a_clients_timestamp_is_ignored(curriculum, learner):
    client = client_for(learner)
    for minutes in (10, -600):  # from the future, from long ago: only the server's clock counts
        at = (timezone.now() + timedelta(minutes=minutes)).isoformat()
        response = client.post(
            "/api/v1/activity", {"exercise": "normalize-rows", "source": "cli", "at": at}, format="json"
        )
        assert response.status_code == 204
    (day,) = ActivityDay.objects.all()
    assert day.day == timezone.now().date() and day.heartbeats == 2 and day.seconds <= 1


def test_heartbeats_from_the_future_are_refused_to_trusted_callers(curriculum, learner):
    from course.progress.services import ActivityRejected

    exercise = Exercise.objects.get(slug="normalize-rows")
    with pytest.raises(ActivityRejected, match="from the future"):
        activity_record(
            learner_id=learner.id, exercise_id=exercise.id, source="cli", at=timezone.now() + timedelta(minutes=10)
        )


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


def test_results_with_what_no_database_takes_are_stored_cleaned(curriculum, learner):
    """NUL, lone surrogates and non-finite numbers from the learner's side never block a result."""
    from grader.result import GradeResult, TestResult, Verdict

    dirty = "bad\x00text \ud800 end"
    result = GradeResult(
        score=1.0,
        max_score=1.0,
        verdict=Verdict.GRADED,
        execution_time=float("nan"),
        tests=[TestResult(dirty, 1.0, 1.0, "passed", "hidden", output=dirty, duration=float("inf"))],
        output=dirty,
        timings={"notebook": float("inf")},
    )
    submission = _queued(learner)
    claimed = submission_claim(submission_id=submission.id, worker="w")
    stored = submission_record(submission=claimed, result=result)
    assert stored is not None and stored.status == "graded" and stored.score == 1.0
    assert "\x00" not in stored.result["output"] and "\ufffd" in stored.result["output"]
    assert stored.result["timings"]["notebook"] is None and stored.result["execution_time"] is None
    row = stored.test_results.get()
    assert "\x00" not in row.name + row.output and row.duration == 0.0


def test_a_missing_notebook_file_ends_the_submission_at_once(curriculum, learner):
    submission = _queued(learner)
    submission.notebook.storage.delete(submission.notebook.name)
    graded = submission_grade(submission_id=submission.id, worker="w")
    assert graded.status == "error" and graded.attempts == 1
    assert "stored notebook of this submission is missing" in graded.result["output"]


def test_the_stuck_job_keeps_queue_order_and_sends_a_lost_task_once(curriculum, learner, other_learner):
    early, late = _queued(learner), _queued(other_learner)
    redis.Redis.from_url(settings.REDIS_URL).delete("cpu")  # the broker lost both tasks
    later = timezone.now() + timedelta(seconds=settings.GRADING_STUCK_AFTER_S + 1)
    assert requeue_stuck(now=later) == 2
    assert _queue_length("cpu") == 2
    assert requeue_stuck(now=later) == 0  # sent at `later`: not stale again in the same cycle
    for before in (early, late):
        after = Submission.objects.get(id=before.id)
        assert after.queued_at == before.queued_at and after.enqueued_at == later  # order and shown time kept
    assert list(Submission.objects.order_by("queued_at").values_list("id", flat=True)) == [early.id, late.id]


def test_a_backlog_longer_than_the_deadline_gets_no_duplicates(curriculum, learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = _queued(learner)  # its task is in the broker, waiting behind a long backlog
    waiting = _queue_length("cpu")
    assert waiting >= 1
    much_later = timezone.now() + timedelta(seconds=10 * settings.GRADING_STUCK_AFTER_S)
    for _ in range(3):  # cycle after cycle of the periodic job
        assert requeue_stuck(now=much_later) == 0
    assert _queue_length("cpu") == waiting
    assert Submission.objects.get(id=submission.id).enqueued_at < much_later


def test_a_running_submission_requeued_keeps_its_place(curriculum, learner):
    submission = _queued(learner)
    submission_claim(submission_id=submission.id, worker="dead-worker")
    later = timezone.now() + timedelta(seconds=settings.GRADING_STUCK_AFTER_S + 1)
    assert requeue_stuck(now=later) == 1
    after = Submission.objects.get(id=submission.id)
    assert after.status == "queued" and after.queued_at == submission.queued_at


@pytest.mark.docker
@pytest.mark.skipif(not PSI_CPU.exists(), reason="this kernel has no pressure stall information")
def test_a_timeout_on_a_starved_host_is_graded_again_then_kept_with_a_note(
    curriculum, learner, sandbox_settings, monkeypatch, settings, tmp_path
):
    import json
    import shutil

    from course.curriculum.services import exercise_publish
    from course.submissions.services import STARVED_NOTE

    # A bundle with a 2 s cell limit, and a notebook whose first cell outlasts it.
    bundle = tmp_path / "numpy" / "slow-cells"
    shutil.copytree(EXERCISES / "numpy" / "normalize-rows", bundle)
    toml = (bundle / "exercise.toml").read_text().replace('"normalize-rows"', '"slow-cells"')
    (bundle / "exercise.toml").write_text(toml.replace("timeout_s = 30", "timeout_s = 30\ncell_timeout_s = 2"))
    exercise_publish(path=bundle)
    notebook = json.loads(NUMPY_SOLUTION)
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
    notebook["cells"].insert(0, cell | {"source": "import time\ntime.sleep(5)"})
    submission = Submission.objects.get(
        id=upload(client_for(learner), "slow-cells", json.dumps(notebook).encode()).json()["id"]
    )
    monkeypatch.setenv("SANDBOX_IMAGE", sandbox_settings.image)
    # Every stall counts as starvation here, so that the real reading of this quiet run decides it.
    monkeypatch.setenv("SANDBOX_STARVED_STALL", "0")
    settings.GRADING_STARVED_RETRIES = 1

    with pytest.raises(InfrastructureError, match="starved host"):
        submission_grade(submission_id=submission.id, worker="w")
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == ("queued", 1)  # back in the queue, nothing recorded

    graded = submission_grade(submission_id=submission.id, worker="w")  # retries used up: the verdict stands
    assert graded.status == "graded" and graded.attempts == 2
    assert graded.result["starved"] is True and graded.result["output"].startswith(STARVED_NOTE)
    assert "host_cpu_stall" in graded.result["timings"]
