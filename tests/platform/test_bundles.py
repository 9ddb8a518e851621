"""Bundles through the platform: zip uploads validated by a worker, regrades, starter packs."""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from course.curriculum.models import Exercise, ExerciseVersion
from course.curriculum.services import exercise_publish
from course.progress.models import ExerciseProgress
from course.submissions.models import Submission
from tests.platform.support import client_for, upload, wait_graded, wait_until_done
from tests.support import EXERCISES, notebook

NUMPY = EXERCISES / "numpy" / "normalize-rows"


def _zip_folder(folder: Path, prefix: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return buf.getvalue()


def _send(client, data: bytes, **fields):
    return client.post("/api/v1/bundles", {"bundle": SimpleUploadedFile("b.zip", data), **fields}, format="multipart")


def _wait_upload(client, upload_id: int, timeout: float = 120) -> dict:
    return wait_until_done(client, f"/api/v1/bundles/{upload_id}", ("published", "rejected"), timeout, every=0.2)


@pytest.mark.django_db
def test_learners_may_not_upload_or_regrade(curriculum, learner):
    client = client_for(learner)
    assert _send(client, _zip_folder(NUMPY, "numpy/normalize-rows")).status_code == 403
    assert client.post("/api/v1/exercises/normalize-rows/regrade").status_code == 403


@pytest.mark.django_db
def test_starter_pack_download(curriculum, learner):
    response = client_for(learner).get("/api/v1/exercises/normalize-rows/starter")
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "normalize-rows/check.py" in names and "normalize-rows/tests/test_visible.py" in names
    assert "normalize-rows/tests/test_normalize_rows.py" not in names


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_uploaded_zip_is_validated_then_published_or_rejected(curriculum, instructor, worker, tmp_path):
    client = client_for(instructor)
    # A changed bundle: a new version once validated.
    changed = tmp_path / "normalize-rows"
    shutil.copytree(NUMPY, changed)
    (changed / "README.md").write_text((changed / "README.md").read_text() + "\nUpdated.\n")
    response = _send(client, _zip_folder(changed, "normalize-rows"), module="numpy")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    body = _wait_upload(client, response.json()["id"])
    assert body["status"] == "published", json.dumps(body["report"], indent=1)
    exercise = Exercise.objects.get(slug="normalize-rows")
    assert exercise.current_version.content_hash == body["version"] and "Updated." in exercise.current_version.statement
    assert ExerciseVersion.objects.filter(exercise=exercise).count() == 2

    # A bundle whose reference is wrong is rejected with the report, and nothing changes.
    nb = json.loads((changed / "solution.ipynb").read_text())
    nb["cells"][2]["source"] = "".join(nb["cells"][2]["source"]).replace("norms != 0", "norms != norms")
    (changed / "solution.ipynb").write_text(json.dumps(nb))
    body = _wait_upload(client, _send(client, _zip_folder(changed, "numpy/normalize-rows")).json()["id"])
    assert body["status"] == "rejected"
    failed = [c["name"] for c in body["report"]["checks"] if not c["ok"]]
    assert "reference gets full marks" in failed
    assert Exercise.objects.get(slug="normalize-rows").current_version == exercise.current_version

    # An unsafe archive never reaches the sandbox.
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("exercise.toml", "x")
        z.writestr("../../escape.py", "x")
    body = _wait_upload(client, _send(client, evil.getvalue(), module="numpy").json()["id"])
    assert body["status"] == "rejected" and "may not leave the bundle" in body["report"]["checks"][0]["message"]


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_regrade_keeps_history_and_never_lowers_the_best_score(
    curriculum, learner, instructor, cohort, worker, tmp_path, settings
):
    client = client_for(learner)
    lenient = notebook(  # right except on zero rows (nan)
        "import numpy as np", "def normalize_rows(x):\n    return x / np.linalg.norm(x, axis=1, keepdims=True)"
    )
    first = wait_graded(client, upload(client, "normalize-rows", lenient).json()["id"])
    assert 0 < first["score"] < 8

    # The instructor publishes a stricter version: every test is now about zero rows.
    strict = tmp_path / "strict" / "numpy" / "normalize-rows"  # tmp_path/exercises is the fixture's
    shutil.copytree(NUMPY, strict)
    (strict / "tests" / "test_normalize_rows.py").write_text(
        "import numpy as np\nimport pytest\n\n\n@pytest.mark.points(7)\ndef test_zero_rows(student):\n"
        "    got = student.normalize_rows(np.zeros((2, 3)))\n"
        "    assert not np.isnan(got).any(), 'zero rows became nan'\n"
    )
    version, created = exercise_publish(path=strict)
    assert created

    staff = client_for(instructor)
    response = staff.post("/api/v1/exercises/normalize-rows/regrade")
    assert response.status_code == 202
    status = response.json()
    assert (status["total"], status["version"]) == (1, version.content_hash)
    deadline = time.monotonic() + 90
    while not status["finished"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
        status = staff.get(f"/api/v1/regrades/{status['id']}").json()
    assert status["done"] == 1
    assert status["lowered"] == [
        {"learner": "alice", "submission": first["id"], "before": first["score"], "after": 1.0}
    ]
    original = Submission.objects.get(id=first["id"])
    assert original.score == first["score"] and original.version != version  # history kept
    copy = Submission.objects.get(regrade_of=original)
    assert copy.version == version and copy.score == 1.0
    progress = ExerciseProgress.objects.get(learner=learner)
    assert progress.best_score == first["score"] and progress.attempts == 1  # not lowered, not an attempt


@pytest.mark.django_db
def test_an_upload_that_breaks_the_validator_is_rejected_not_left_validating(curriculum, instructor, tmp_path):
    from course.curriculum.models import BundleUpload
    from course.curriculum.services import bundle_upload_process

    broken = tmp_path / "normalize-rows"
    shutil.copytree(NUMPY, broken)
    (broken / "tests" / "test_latin1.py").write_bytes(b"# caf\xe9\ndef test_x(student):\n    pass\n")  # not UTF-8
    upload_row = BundleUpload.objects.create(
        uploaded_by=instructor,
        archive=SimpleUploadedFile("b.zip", _zip_folder(broken, "normalize-rows")),
        module="numpy",
    )
    done = bundle_upload_process(upload_id=upload_row.id)
    assert done.status == "rejected" and done.finished_at is not None
    (check,) = [c for c in done.report["checks"] if not c["ok"]]
    assert "could not be validated" in check["message"] and "UnicodeDecodeError" in check["message"]


@pytest.mark.django_db
def test_an_upload_whose_validating_worker_died_is_validated_again_then_given_up(
    curriculum, instructor, tmp_path, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from course.curriculum.models import BundleUpload
    from course.curriculum.services import bundle_upload_process, bundle_uploads_requeue_stuck

    broken = tmp_path / "normalize-rows"
    shutil.copytree(NUMPY, broken)
    (broken / "tests" / "test_latin1.py").write_bytes(b"# caf\xe9\ndef test_x(student):\n    pass\n")
    row = BundleUpload.objects.create(
        uploaded_by=instructor,
        archive=SimpleUploadedFile("b.zip", _zip_folder(broken, "normalize-rows")),
        module="numpy",
        enqueued_at=timezone.now(),
    )
    # A worker claimed it and was killed: the redelivered task finds it validating and leaves it.
    BundleUpload.objects.filter(id=row.id).update(status="validating", started_at=timezone.now(), attempts=1)
    assert bundle_upload_process(upload_id=row.id).status == "validating"
    assert bundle_uploads_requeue_stuck() == 0  # not stuck yet
    later = timezone.now() + timedelta(seconds=settings.BUNDLE_VALIDATION_STUCK_AFTER_S + 1)
    assert bundle_uploads_requeue_stuck(now=later) == 1
    assert BundleUpload.objects.get(id=row.id).status == "pending"
    done = bundle_upload_process(upload_id=row.id)  # the new task
    assert (done.status, done.attempts) == ("rejected", 2) and "UnicodeDecodeError" in str(done.report)

    # One that kills its worker every time is rejected with a report, not retried for ever.
    BundleUpload.objects.filter(id=row.id).update(
        status="validating", attempts=settings.BUNDLE_VALIDATION_MAX_ATTEMPTS, report=None, finished_at=None
    )
    assert bundle_uploads_requeue_stuck(now=later) == 0
    given_up = BundleUpload.objects.get(id=row.id)
    assert given_up.status == "rejected" and given_up.finished_at is not None
    assert "did not finish in 3 tries" in given_up.report["checks"][0]["message"]


@pytest.mark.django_db
def test_a_stale_validation_cannot_overwrite_a_newer_claim(curriculum, instructor):
    from course.curriculum.models import BundleUpload
    from course.curriculum.services import _finish_upload

    row = BundleUpload.objects.create(
        uploaded_by=instructor, archive=SimpleUploadedFile("b.zip", b"PK\x05\x06" + b"\0" * 18), module="numpy"
    )
    BundleUpload.objects.filter(id=row.id).update(status="validating", attempts=2)
    stale = BundleUpload(id=row.id, attempts=1)  # the first claim, finishing late
    _finish_upload(stale, BundleUpload.Status.PUBLISHED, {"ok": True, "checks": []})
    assert BundleUpload.objects.get(id=row.id).status == "validating"
