"""The REST API without a worker: validation, permissions, rate limits, progress and the schema."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise
from course.progress.services import activity_record
from course.submissions.models import Submission
from course.submissions.services import submission_claim, submission_release
from tests.platform.support import client_for, upload
from tests.support import EXERCISES, notebook

pytestmark = pytest.mark.django_db
NUMPY_SOLUTION = (EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_bytes()


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "submissions"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_token_auth(learner):
    client = client_for(None)
    assert client.get("/api/v1/modules").status_code == 401
    response = client.post("/api/v1/auth/token", {"username": "alice", "password": "pw"}, format="json")
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/modules").status_code == 200
    bad = client_for(None).post("/api/v1/auth/token", {"username": "alice", "password": "nope"}, format="json")
    assert bad.status_code == 400 and "wrong username or password" in bad.json()["detail"]


def test_modules_show_state_score_and_time(curriculum, learner):
    client = client_for(learner)
    modules = {m["slug"]: m for m in client.get("/api/v1/modules").json()}
    assert list(modules)[:4] == ["python", "linear-algebra", "probability", "numpy"]
    assert modules["numpy"]["state"] == "available"
    assert modules["numpy"]["requires"] == ["python"]
    assert modules["einops-einsum"]["state"] == "locked"
    assert modules["numpy"]["max_score"] == 8.0 and modules["numpy"]["estimated_hours"] == 4
    response = client.post("/api/v1/activity", {"exercise": "normalize-rows", "source": "web"}, format="json")
    assert response.status_code == 204
    numpy = next(m for m in client.get("/api/v1/modules").json() if m["slug"] == "numpy")
    assert numpy["state"] == "in_progress" and numpy["time_s"] == 0
    bad = client.post("/api/v1/activity", {"exercise": "nope", "source": "web"}, format="json")
    assert bad.status_code == 404


def test_exercise_detail_and_template_download(curriculum, learner):
    client = client_for(learner)
    detail = client.get("/api/v1/exercises/normalize-rows").json()
    assert detail["module"] == "numpy" and detail["points"] == 8.0 and "unit Euclidean" in detail["statement"]
    response = client.get("/api/v1/exercises/normalize-rows/notebook")
    assert response["Content-Disposition"] == 'attachment; filename="normalize-rows.ipynb"'
    template = json.loads(response.content)
    assert "BEGIN SOLUTION" not in response.content.decode() and template["nbformat"] == 4
    assert client.get("/api/v1/exercises/nope").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"not json at all", 400, "not valid JSON"),
        (json.dumps({"nbformat": 3, "cells": []}).encode(), 400, "nbformat 3 is not supported"),
        (b"\xff\xfe\xfd", 400, "not UTF-8"),
        (notebook(*["x = 1"] * 501), 400, "above the limit of 500"),
        (notebook("x = '" + "a" * 3 * 2**20 + "'"), 413, "above the limit of 2048 KB"),
    ],
    ids=["not-json", "nbformat-3", "binary", "too-many-cells", "too-big"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(curriculum, learner, data, status, message):
    before = _stored_files()
    response = upload(client_for(learner), "normalize-rows", data)
    assert response.status_code == status, response.content
    assert message in response.json()["detail"]
    assert Submission.objects.count() == 0
    assert _stored_files() == before


def test_missing_field_unknown_exercise_and_locked_module(curriculum, learner):
    client = client_for(learner)
    missing = client.post("/api/v1/exercises/normalize-rows/submissions", {}, format="multipart")
    assert missing.status_code == 400 and "named 'notebook'" in missing.json()["detail"]
    unknown = upload(client, "no-such-exercise", NUMPY_SOLUTION)
    assert unknown.status_code == 404 and "no exercise 'no-such-exercise'" in unknown.json()["detail"]
    locked = upload(client, "causal-attention-pattern", NUMPY_SOLUTION)
    assert locked.status_code == 403 and "locked" in locked.json()["detail"]
    assert Submission.objects.count() == 0


def test_staff_may_submit_to_locked_modules(curriculum, instructor):
    response = upload(client_for(instructor), "causal-attention-pattern", NUMPY_SOLUTION)
    assert response.status_code == 202


def test_one_in_flight_per_exercise_then_a_per_minute_cap(curriculum, learner):
    client = client_for(learner)
    first = upload(client, "normalize-rows", NUMPY_SOLUTION)
    assert first.status_code == 202
    again = upload(client, "normalize-rows", NUMPY_SOLUTION)
    assert again.status_code == 429 and again["Retry-After"] == "5"
    assert "still being graded" in again.json()["detail"]
    Submission.objects.update(status=Submission.Status.GRADED)
    with override_settings(SUBMISSIONS_PER_MINUTE=2):
        assert upload(client, "normalize-rows", NUMPY_SOLUTION).status_code == 202
        Submission.objects.update(status=Submission.Status.GRADED)
        capped = upload(client, "normalize-rows", NUMPY_SOLUTION)
    assert capped.status_code == 429 and 1 <= int(capped["Retry-After"]) <= 60
    assert "at most 2 submissions a minute" in capped.json()["detail"]
    assert Submission.objects.count() == 2


def test_learners_see_only_their_own_submissions(curriculum, learner, other_learner, instructor, cohort):
    submission_id = upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION).json()["id"]
    assert client_for(learner).get(f"/api/v1/submissions/{submission_id}").status_code == 200
    assert client_for(other_learner).get(f"/api/v1/submissions/{submission_id}").status_code == 404
    assert client_for(instructor).get(f"/api/v1/submissions/{submission_id}").status_code == 200  # her cohort
    outsider = user_create(username="oscar", role=User.Role.INSTRUCTOR, password="pw")[0]
    assert client_for(outsider).get(f"/api/v1/submissions/{submission_id}").status_code == 404


def test_cohort_progress_for_its_staff_only(curriculum, learner, other_learner, instructor, cohort):
    activity_record(learner_id=learner.id, exercise_id=curriculum_exercise("normalize-rows"), source="web")
    assert client_for(learner).get(f"/api/v1/cohorts/{cohort.id}/progress").status_code == 404
    other = Cohort.objects.create(name="Other")
    outsider = user_create(username="oscar", role=User.Role.INSTRUCTOR, password="pw")[0]
    Enrollment.objects.create(cohort=other, user=outsider, role=Enrollment.Role.STAFF)
    assert client_for(outsider).get(f"/api/v1/cohorts/{cohort.id}/progress").status_code == 404
    rows = client_for(instructor).get(f"/api/v1/cohorts/{cohort.id}/progress").json()
    assert {r["learner"] for r in rows} == {"alice"}  # bob is in no cohort of hers
    numpy = next(r for r in rows if r["module"] == "numpy")
    assert numpy["status"] == "in_progress" and numpy["max_score"] == 8.0
    response = client_for(instructor).get(f"/api/v1/cohorts/{cohort.id}/progress?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(table) == 10 and table[0].keys() >= {"learner", "module", "status", "score", "time_s"}


def test_cohort_dashboard_exports_every_section_to_its_staff_only(
    curriculum, learner, other_learner, instructor, cohort
):
    from course.progress.models import ExerciseProgress

    Enrollment.objects.create(cohort=cohort, user=other_learner)
    activity_record(learner_id=learner.id, exercise_id=curriculum_exercise("normalize-rows"), source="web")
    ExerciseProgress.objects.create(
        learner=other_learner, exercise_id=curriculum_exercise("normalize-rows"), state="attempted", attempts=6
    )
    url = f"/api/v1/cohorts/{cohort.id}/dashboard"
    assert client_for(learner).get(url).status_code == 404
    outsider = user_create(username="oscar", role=User.Role.INSTRUCTOR, password="pw")[0]
    refused = client_for(outsider).get(f"{url}?format=zip")
    assert refused.status_code == 404 and refused.json() == {"detail": "no such cohort"}  # JSON, not a broken zip
    staff = client_for(instructor)

    sections = staff.get(url).json()["sections"]
    assert set(sections) == {"matrix", "funnel", "hours", "stuck", "reveals"}
    assert len(sections["matrix"]) == 2 * 10  # two learners, ten modules
    numpy_funnel = next(r for r in sections["funnel"] if r["module"] == "numpy")
    assert (numpy_funnel["learners"], numpy_funnel["in_progress"]) == (2, 2)
    assert {r["module"] for r in sections["hours"]} == {r["module"] for r in sections["funnel"]}
    assert {"learner": "bob", "reason": "6 attempts on normalize-rows without passing"} in sections["stuck"]

    for name, rows in sections.items():
        response = staff.get(f"{url}?format=csv&section={name}")
        assert response["Content-Type"].startswith("text/csv")
        assert f'filename="cohort-{cohort.id}-{name}.csv"' in response["Content-Disposition"]
        table = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [row["learner" if "learner" in row else "module"] for row in table] == [
            str(row.get("learner", row.get("module"))) for row in rows
        ]
    bad = staff.get(f"{url}?format=csv&section=everything")
    assert bad.status_code == 400 and "section must be one of" in bad.json()["detail"]

    response = staff.get(f"{url}?format=zip")
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        hours = list(csv.DictReader(io.StringIO(archive.read(f"cohort-{cohort.id}-hours.csv").decode())))
    assert names == [f"cohort-{cohort.id}-{name}.csv" for name in ("matrix", "funnel", "hours", "stuck", "reveals")]
    assert hours[0].keys() >= {"module", "estimated_hours", "median_hours", "over_estimate"}


def test_an_empty_section_still_has_its_header(curriculum, learner, instructor, cohort):
    activity_record(learner_id=learner.id, exercise_id=curriculum_exercise("normalize-rows"), source="web")
    response = client_for(instructor).get(f"/api/v1/cohorts/{cohort.id}/dashboard?format=csv&section=stuck")
    assert response.content.decode().splitlines() == ["learner,reason"]


def test_submission_stage_splits_running_into_running_and_judging(curriculum, learner):
    client = client_for(learner)
    submission_id = upload(client, "normalize-rows", NUMPY_SOLUTION).json()["id"]

    def seen():
        body = client.get(f"/api/v1/submissions/{submission_id}").json()
        return body["status"], body["stage"]

    assert seen() == ("queued", "queued")
    submission_claim(submission_id=submission_id, worker="w")
    assert seen() == ("running", "running")
    Submission.objects.filter(id=submission_id).update(judging_at=timezone.now())
    assert seen() == ("running", "judging")  # `status` keeps its four values (DESIGN.md)
    submission_release(submission=Submission.objects.get(id=submission_id))
    assert seen() == ("queued", "queued")


def curriculum_exercise(slug: str) -> int:
    from course.curriculum.models import Exercise

    return Exercise.objects.get(slug=slug).id


def test_a_redelivered_task_is_a_no_op(curriculum, learner):
    submission_id = upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION).json()["id"]
    assert submission_claim(submission_id=submission_id, worker="w1") is not None
    assert submission_claim(submission_id=submission_id, worker="w2") is None
    submission = Submission.objects.get(id=submission_id)
    assert (submission.status, submission.worker, submission.attempts) == ("running", "w1", 1)


def test_openapi_schema_lists_the_contract(learner):
    response = client_for(learner).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in [
        "/api/v1/auth/token",
        "/api/v1/modules",
        "/api/v1/exercises/{slug}",
        "/api/v1/exercises/{slug}/notebook",
        "/api/v1/exercises/{slug}/submissions",
        "/api/v1/submissions/{submission_id}",
        "/api/v1/activity",
        "/api/v1/cohorts/{cohort_id}/progress",
        "/api/v1/cohorts/{cohort_id}/dashboard",
    ]:
        assert path in paths


def test_openapi_schema_is_valid_and_every_component_has_its_own_name(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn: two views' nested InputSerializers sharing one component "Input" was a warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "    TokenInput:" in schema and "    SubmissionCreateInput:" in schema and "    Input:" not in schema


def test_cohort_progress_runs_a_constant_number_of_queries(curriculum, instructor, cohort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from course.progress.models import ExerciseProgress

    exercise_ids = list(Exercise.objects.values_list("id", flat=True))

    def add_learners(n: int, start: int) -> None:
        for i in range(start, start + n):
            user = user_create(username=f"l{i}", role=User.Role.LEARNER, password="pw")[0]
            Enrollment.objects.create(cohort=cohort, user=user)
            ExerciseProgress.objects.create(
                learner=user,
                exercise_id=exercise_ids[i % len(exercise_ids)],
                state="attempted",
                best_score=1,
                max_score=8,
                attempts=1,
            )

    client = client_for(instructor)
    counts = []
    for n, start in ((3, 0), (60, 3)):
        add_learners(n, start)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/cohorts/{cohort.id}/progress").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts  # 4 learners or 64: the same queries


def test_queued_submissions_show_their_place_in_the_queue(curriculum, learner, other_learner):
    first = upload(client_for(learner), "normalize-rows", NUMPY_SOLUTION).json()["id"]
    second = upload(client_for(other_learner), "normalize-rows", NUMPY_SOLUTION).json()["id"]
    assert client_for(learner).get(f"/api/v1/submissions/{first}").json()["queue_position"] == 0
    assert client_for(other_learner).get(f"/api/v1/submissions/{second}").json()["queue_position"] == 1
    Submission.objects.filter(id=first).update(status="running")
    assert client_for(other_learner).get(f"/api/v1/submissions/{second}").json()["queue_position"] == 0
    assert client_for(learner).get(f"/api/v1/submissions/{first}").json()["queue_position"] is None


def test_a_filter_that_is_not_a_slug_is_a_clear_400(curriculum, learner):
    client = client_for(learner)
    for bad in ("%00", "a b", "x%00y"):
        response = client.get(f"/api/v1/submissions?exercise={bad}")
        assert response.status_code == 400 and "exercise" in response.json()
    assert client.get("/api/v1/submissions?exercise=normalize-rows").status_code == 200
