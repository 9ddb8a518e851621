"""Concurrent requests against the real database (SQLite here, PostgreSQL in CI's second run).

Each thread is its own request with its own database connection, as under gunicorn.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from course.progress.models import ActivityDay, LearnerClock
from course.submissions.models import Submission
from tests.platform.support import client_for, upload
from tests.support import EXERCISES

pytestmark = pytest.mark.django_db(transaction=True)
NUMPY_SOLUTION = (EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_bytes()


def _at_once(n: int, request) -> list:
    """Run ``request()`` in ``n`` threads released together; their results in any order."""
    barrier = threading.Barrier(n)
    results: list = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(request())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_one_submission_in_flight_even_for_concurrent_posts(curriculum, learner):
    codes = _at_once(3, lambda: upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION).status_code)
    assert sorted(codes) == [202, 429, 429]
    assert Submission.objects.filter(learner=learner, status__in=["queued", "running"]).count() == 1


def test_concurrent_first_heartbeats_are_all_counted(curriculum, learner):
    beat = {"exercise": "normalize-rows", "source": "web"}
    codes = _at_once(4, lambda: client_for(learner).post("/api/v1/activity", beat, format="json").status_code)
    assert codes == [204] * 4
    assert LearnerClock.objects.filter(learner=learner).count() == 1
    (day,) = ActivityDay.objects.filter(learner=learner)
    assert day.heartbeats == 4


def test_time_on_task_comes_from_the_servers_clock(curriculum, learner):
    client = client_for(learner)
    start = timezone.now()
    for minutes in range(45):  # a client backdating each heartbeat by another 5 minutes
        at = (start - timedelta(hours=4) + timedelta(minutes=5 * minutes)).isoformat()
        response = client.post(
            "/api/v1/activity", {"exercise": "normalize-rows", "source": "cli", "at": at}, format="json"
        )
        assert response.status_code == 204
    elapsed = (timezone.now() - start).total_seconds()
    credited = sum(ActivityDay.objects.filter(learner=learner).values_list("seconds", flat=True))
    assert credited <= elapsed + 1


def test_concurrent_regrades_of_one_exercise_start_once(curriculum, learner, instructor, cohort):
    sub_id = upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION).json()["id"]
    Submission.objects.filter(id=sub_id).update(status="graded", score=8.0)
    codes = _at_once(3, lambda: client_for(instructor).post("/api/v1/exercises/normalize-rows/regrade").status_code)
    assert sorted(codes) == [202, 409, 409]
    assert Submission.objects.filter(regrade__isnull=False).count() == 1
