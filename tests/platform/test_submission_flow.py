"""Submissions through the REST API, a real Redis, a real Celery worker process and real Docker."""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from course.submissions.models import Submission
from course.submissions.models import TestResult as ResultRow
from course.submissions.services import requeue_stuck
from grader.template import make_template
from sandbox.driver import gradings_of, reap_stale
from tests.platform.support import Worker, client_for, owners_of, upload, wait_graded
from tests.support import EXERCISES, notebook

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
NUMPY = EXERCISES / "numpy" / "normalize-rows"


def test_correct_notebook_full_marks_and_wrong_one_partial(curriculum, learner, worker):
    client = client_for(learner)
    response = upload(client, "normalize-rows", (NUMPY / "solution.ipynb").read_bytes())
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    body = wait_graded(client, response.json()["id"])
    assert (body["status"], body["score"], body["max_score"]) == ("graded", 8.0, 8.0)
    assert body["result"]["verdict"] == "graded" and len(body["result"]["tests"]) == 6
    # The worker marked the judging stage between its claim and the result.
    assert body["stage"] == "graded" and body["started_at"] < body["judging_at"] < body["finished_at"]

    # Right for the example, wrong on zero rows: partial marks.
    partial = notebook(
        "import numpy as np",
        "def normalize_rows(x):\n    return x / np.linalg.norm(x, axis=1, keepdims=True)",
    )
    body = wait_graded(client, upload(client, "normalize-rows", partial).json()["id"])
    assert body["status"] == "graded" and 0 < body["score"] < body["max_score"]
    failed = {t["name"] for t in body["result"]["tests"] if t["status"] != "passed"}
    assert "test_zero_row_stays_zero" in failed

    modules = {m["slug"]: m for m in client.get("/api/v1/modules").json()}
    numpy = modules["numpy"]
    assert numpy["state"] == "complete" and numpy["score"] == 8.0  # the best score is kept
    assert numpy["exercises"][0]["attempts"] == 2
    # Modules with no exercises yet hold nothing up: einops-einsum (after pytorch) opens.
    assert modules["einops-einsum"]["state"] == "available"


def test_template_gets_nothing_and_errors_are_results_not_retries(curriculum, learner, worker):
    client = client_for(learner)
    template = json.dumps(make_template(json.loads((NUMPY / "solution.ipynb").read_text()))).encode()
    body = wait_graded(client, upload(client, "normalize-rows", template).json()["id"])
    assert body["status"] == "graded" and body["score"] == 0
    submission = Submission.objects.get(id=body["id"])
    assert submission.attempts == 1 and submission.worker


def test_worker_killed_mid_grading_grades_exactly_once(curriculum, learner, sandbox_settings):
    client = client_for(learner)
    slow = notebook(
        "import time\ntime.sleep(6)",
        "import numpy as np\ndef normalize_rows(x):\n    n = np.linalg.norm(x, axis=1, keepdims=True)\n"
        "    return np.divide(x, n, out=np.zeros_like(x), where=n != 0)",
    )
    first = Worker(sandbox_settings.image).start()
    try:
        submission_id = upload(client, "normalize-rows", slow).json()["id"]
        deadline = time.monotonic() + 30
        while Submission.objects.get(id=submission_id).status != Submission.Status.RUNNING:
            assert time.monotonic() < deadline, "the worker never claimed the submission"
            time.sleep(0.05)
        time.sleep(2)  # inside the sandbox now
        killed = owners_of(first)
        while not gradings_of(*killed):  # its sandbox carries the label of one of the worker's processes
            assert time.monotonic() < deadline + 30, "no sandbox object of the worker's processes"
            time.sleep(0.1)
    finally:
        first.kill(signal.SIGKILL)  # also when the test fails: a stray worker would take others' tasks
    assert Submission.objects.get(id=submission_id).status == Submission.Status.RUNNING

    # The periodic job finds it stuck and re-enqueues it; a fresh worker grades it.
    with override_settings(GRADING_STUCK_AFTER_S=0):
        assert requeue_stuck(now=timezone.now() + timedelta(seconds=1)) == 1
    second = Worker(sandbox_settings.image).start()
    try:
        body = wait_graded(client, submission_id)
        graders = killed | owners_of(second)
    finally:
        second.stop()
    assert body["status"] == "graded" and body["score"] == 8.0
    submission = Submission.objects.get(id=submission_id)
    assert submission.attempts == 2
    assert ResultRow.objects.filter(submission_id=submission_id).count() == 6  # one row per test, once
    assert Submission.objects.count() == 1
    reap_stale()  # what the killed worker's sandbox left (the new worker's engine does this too)
    # Only these workers' objects: other gradings on this Docker engine are not this test's.
    assert gradings_of(*graders) == set()
