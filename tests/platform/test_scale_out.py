"""Two workers on one queue, as on two hosts: every submission graded once, neither reaps the other's
sandboxes. (On one machine, the workers differ only by process; the owner labels and the claim are
what keeps them apart on separate hosts too.)"""

from __future__ import annotations

import json

import pytest

from course.accounts.models import User
from course.accounts.services import user_create
from course.submissions.models import Submission
from course.submissions.models import TestResult as ResultRow
from sandbox.driver import gradings_of
from tests.platform.support import Worker, client_for, owners_of, upload, wait_graded
from tests.support import EXERCISES

SLOW_SECONDS = 2  # each grading overlaps others, so each worker's reaper runs while the other grades


def _slow_solution() -> bytes:
    notebook = json.loads((EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_text())
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
    notebook["cells"].insert(0, cell | {"source": f"import time\ntime.sleep({SLOW_SECONDS})"})
    return json.dumps(notebook).encode()


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_one_queue_without_double_grading(curriculum, sandbox_settings):
    learners = [user_create(username=f"learner{i}", role=User.Role.LEARNER, password="pw")[0] for i in range(8)]
    first = Worker(sandbox_settings.image).start()
    try:
        second = Worker(sandbox_settings.image).start()
        try:
            data = _slow_solution()
            ids = [upload(client_for(learner), "normalize-rows", data).json()["id"] for learner in learners]
            bodies = [wait_graded(client_for(who), sid, timeout=300) for who, sid in zip(learners, ids, strict=True)]
            owners = owners_of(first) | owners_of(second)
        finally:
            second.stop()
    finally:
        first.stop()
    assert [(b["status"], b["score"]) for b in bodies] == [("graded", 8.0)] * len(ids)
    graded = Submission.objects.filter(id__in=ids)
    assert sorted(graded.values_list("attempts", flat=True)) == [1] * len(ids)  # claimed once each
    assert len(set(graded.values_list("worker", flat=True))) == 2  # both workers took some
    assert ResultRow.objects.filter(submission_id__in=ids).count() == 6 * len(ids)  # one set of rows each
    assert Submission.objects.count() == len(ids)
    assert gradings_of(*owners) == set()  # each removed its own sandboxes, and nobody else's mattered
