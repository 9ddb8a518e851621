"""The admin site and the management commands."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.test import Client

from course.accounts.models import User
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise, ExerciseVersion, Module
from course.progress.models import ActivityDay, Reveal
from grader.help import bundle_help
from tests.support import EXERCISES

pytestmark = pytest.mark.django_db


def test_every_model_is_in_the_admin_and_its_pages_load(curriculum, learner):
    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(superuser)
    for model in apps.get_models():
        if model._meta.app_label in {"accounts", "cohorts", "curriculum", "submissions", "progress"}:
            assert admin.site.is_registered(model), model
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert client.get(url).status_code == 200, url


def test_load_curriculum_is_idempotent_and_versions_changed_bundles(tmp_path, settings):
    settings.EXERCISES_DIR = tmp_path / "exercises"
    shutil.copytree(EXERCISES, settings.EXERCISES_DIR)
    out = StringIO()
    call_command("load_curriculum", stdout=out)
    n = len(list(EXERCISES.glob("*/*/exercise.toml")))
    assert f"10 modules; {n} new exercise versions, 0 unchanged" in out.getvalue()
    assert set(Module.objects.get(slug="transformers").requires.values_list("slug", flat=True)) == {
        "einops-einsum",
        "probability",
    }
    # A module's `exercises` list orders its exercises; the others keep their folder order.
    order = list(Exercise.objects.filter(module__slug="mi-tooling").values_list("slug", flat=True))
    assert order[:2] == ["pytorch-hooks", "activation-cache"] and order[-1] == "composition-scores"
    numpy = list(Exercise.objects.filter(module__slug="numpy").values_list("slug", flat=True))
    assert numpy == sorted(numpy)
    out = StringIO()
    call_command("load_curriculum", stdout=out)
    assert f"0 new exercise versions, {n} unchanged" in out.getvalue()
    exercise = Exercise.objects.get(slug="normalize-rows")
    first = exercise.current_version
    readme = settings.EXERCISES_DIR / "numpy" / "normalize-rows" / "README.md"
    readme.write_text(readme.read_text() + "\nOne more hint.\n")
    call_command("load_curriculum", stdout=StringIO())
    exercise.refresh_from_db()
    assert exercise.current_version != first and ExerciseVersion.objects.filter(exercise=exercise).count() == 2
    assert "One more hint" in exercise.current_version.statement and "One more hint" not in first.statement


def test_load_curriculum_stores_criteria_checkpoints_and_steps(tmp_path, settings):
    settings.EXERCISES_DIR = tmp_path / "exercises"
    shutil.copytree(EXERCISES, settings.EXERCISES_DIR)
    call_command("load_curriculum", stdout=StringIO())
    numpy = Module.objects.get(slug="numpy")
    assert numpy.criteria and numpy.step.slug == "ml-prerequisites"
    assert (numpy.step.published_low_hours, numpy.step.published_high_hours) == (10.0, 40.0)
    assert set(numpy.exercises.filter(checkpoint=True).values_list("slug", flat=True)) == {
        "pairwise-distances",
        "top-k-per-row",
    }
    # Moving a checkpoint in curriculum.toml moves the mark.
    toml = settings.EXERCISES_DIR / "curriculum.toml"
    toml.write_text(
        toml.read_text().replace(
            'checkpoints = ["pairwise-distances", "top-k-per-row"]', 'checkpoints = ["normalize-rows"]'
        )
    )
    call_command("load_curriculum", stdout=StringIO())
    assert list(numpy.exercises.filter(checkpoint=True).values_list("slug", flat=True)) == ["normalize-rows"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ('[[steps]]\nslug = "s"\ntitle = "S"\nmodules = ["zz"]\npublished_hours = [1, 2]\n', "unknown module 'zz'"),
        ('[[steps]]\nslug = "s"\ntitle = "S"\nmodules = ["a"]\npublished_hours = [5, 2]\n', "low <= high"),
        (
            '[[steps]]\nslug = "s"\ntitle = "S"\nmodules = ["a"]\npublished_hours = [1, 2]\n'
            '[[steps]]\nslug = "t"\ntitle = "T"\nmodules = ["a"]\npublished_hours = [1, 2]\n',
            "already in step 's'",
        ),
        (
            '[[steps]]\nslug = "s"\ntitle = "S"\nmodules = []\npublished_hours = [1, 2]\n'
            '[[steps]]\nslug = "s"\ntitle = "T"\nmodules = ["a"]\npublished_hours = [1, 2]\n',
            "a second step with this slug",
        ),
        ('[[steps]]\nslug = "s"\ntitle = "S"\nmodules = "a"\npublished_hours = [1, 2]\n', "list of module slugs"),
        ('[[steps]]\nslug = "s"\ntitle = "S"\nmodules = [1]\npublished_hours = [1, 2]\n', "list of module slugs"),
    ],
)
def test_load_curriculum_refuses_bad_steps(tmp_path, settings, steps, message):
    root = tmp_path / "exercises"
    root.mkdir()
    (root / "curriculum.toml").write_text(steps + '[[modules]]\nslug = "a"\ntitle = "A"\ncriteria = ["x"]\n')
    with pytest.raises(Exception, match=message):
        call_command("load_curriculum", root=root, stdout=StringIO())


def test_seed_demo_fills_the_demo_cohort_with_weeks_of_synthetic_work(tmp_path, settings):
    from course.cohorts.selectors import cohort_dashboard
    from course.progress.time_report import time_report
    from course.submissions.item_stats import exercise_item_stats
    from course.submissions.management.commands.submit_shipped import DEFAULT_USER

    settings.EXERCISES_DIR = tmp_path / "exercises"
    shutil.copytree(EXERCISES, settings.EXERCISES_DIR)
    call_command("load_curriculum", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "added 36 synthetic learners with 6 weeks of work" in out.getvalue()
    cohort = Cohort.objects.get(name="Demo cohort")
    # The run command grades as a staff account the cohort follows as a learner.
    assert cohort.enrollments.get(user__username=DEFAULT_USER).role == Enrollment.Role.LEARNER
    assert User.objects.get(username=DEFAULT_USER).is_course_staff
    data = cohort_dashboard(cohort=cohort)
    funnel = {state: sum(m["funnel"][state] for m in data["modules"]) for state in data["modules"][0]["funnel"]}
    assert all(funnel[state] > 0 for state in ("complete", "tested_out", "in_progress", "locked")), funnel
    assert data["stuck"] and any(r["passed_after_solution"] for r in data["reveals"])
    days = ActivityDay.objects.filter(learner__username__startswith="synthetic-").values_list("day", flat=True)
    assert (max(days) - min(days)).days >= 28, "the activity spans weeks"
    assert all(step.hours is not None for step in time_report().steps), "every step has enough learners"
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    stats = exercise_item_stats(slug="normalize-rows", viewer=admin)
    assert stats.learners >= 20 and stats.discrimination is not None and stats.tests
    # Nobody saw a hint or a solution its bundle does not have.
    for exercise in Exercise.objects.filter(reveals__isnull=False).distinct().select_related("current_version"):
        help_ = bundle_help(Path(exercise.current_version.bundle_path))
        numbers = exercise.reveals.filter(kind=Reveal.Kind.HINT).values_list("number", flat=True)
        assert max(numbers, default=0) <= len(help_.hints), exercise.slug
        assert help_.solution or not exercise.reveals.filter(kind=Reveal.Kind.SOLUTION).exists(), exercise.slug
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "synthetic" not in again.getvalue() and cohort.enrollments.count() == 36 + 4


def test_load_curriculum_refuses_a_cycle(tmp_path, settings):
    root = tmp_path / "exercises"
    root.mkdir()
    (root / "curriculum.toml").write_text(
        '[[modules]]\nslug = "a"\ntitle = "A"\nrequires = ["b"]\n'
        '[[modules]]\nslug = "b"\ntitle = "B"\nrequires = ["a"]\n'
    )
    with pytest.raises(Exception, match="cycle"):
        call_command("load_curriculum", root=root, stdout=StringIO())


def test_seed_demo_prints_passwords_once(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert out.getvalue().count("password: ") == 4
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "password: " not in again.getvalue() and again.getvalue().count("password unchanged") == 4
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="instructor").groups.filter(name="instructors").exists()


@pytest.mark.docker
def test_grade_command_prints_the_result(curriculum, sandbox_settings, monkeypatch):
    monkeypatch.setenv("SANDBOX_IMAGE", sandbox_settings.image)
    out = StringIO()
    call_command("grade", "normalize-rows", str(EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb"), stdout=out)
    result = json.loads(out.getvalue())
    assert result["score"] == result["max_score"] == 8.0 and result["verdict"] == "graded"


@pytest.mark.docker
def test_bundle_commands_new_validate_publish(tmp_path, settings, sandbox_settings, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("SANDBOX_IMAGE", sandbox_settings.image)
    root = tmp_path / "exercises"
    root.mkdir()
    shutil.copy(EXERCISES / "curriculum.toml", root)
    settings.EXERCISES_DIR = root
    call_command("load_curriculum", stdout=StringIO())
    call_command("bundle", "new", "numpy", "scale-array", stdout=StringIO())
    path = root / "numpy" / "scale-array"
    out = StringIO()
    call_command("bundle", "validate", str(path), "--json", stdout=out)
    (report,) = json.loads(out.getvalue())
    assert report["ok"] and report["reference"]["score"] == 4.0
    out = StringIO()
    call_command("bundle", "publish", str(path), stdout=out)
    assert "published scale-array@" in out.getvalue()
    out = StringIO()
    call_command("bundle", "publish", str(path), stdout=out)
    assert "already published, unchanged" in out.getvalue()
    assert ExerciseVersion.objects.filter(exercise__slug="scale-array").count() == 1
    (path / "solution.ipynb").write_text((path / "solution.ipynb").read_text().replace("x * factor", "x"))
    with pytest.raises(CommandError, match="validation failed"):
        call_command("bundle", "validate", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("bundle", "new", "numpy", "scale-array", stdout=StringIO())


def test_admin_pages_upload_a_bundle_and_start_a_regrade(curriculum, instructor, learner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from course.curriculum.models import BundleUpload
    from course.submissions.models import Regrade, Submission
    from tests.platform.support import client_for, upload

    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/curriculum/bundleupload/add/").status_code == 200
    response = client.post(
        "/admin/curriculum/bundleupload/add/",
        {"archive": SimpleUploadedFile("b.zip", b"PK\x05\x06" + b"\0" * 18), "module": "numpy"},
    )
    assert response.status_code == 302
    (created,) = BundleUpload.objects.all()
    assert created.status == "pending" and created.uploaded_by == superuser
    assert (
        "waiting for validation" in client.get(f"/admin/curriculum/bundleupload/{created.id}/change/").content.decode()
    )

    submission_id = upload(
        client_for(learner), "normalize-rows", (EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_bytes()
    ).json()["id"]
    Submission.objects.filter(id=submission_id).update(status="graded", score=8.0)
    exercise = Exercise.objects.get(slug="normalize-rows")
    response = client.post(
        "/admin/curriculum/exercise/", {"action": "regrade", "_selected_action": [exercise.id]}, follow=True
    )
    assert "Regrading 1 submission(s) of normalize-rows" in response.content.decode()
    regrade = Regrade.objects.get()
    page = client.get(f"/admin/submissions/regrade/{regrade.id}/change/").content.decode()
    assert "0 / 1" in page


def test_the_admin_role_cannot_raise_anyones_rights(db):
    from course.accounts.services import user_create

    admin_user, _ = user_create(username="ada", role=User.Role.ADMIN, password="pw")
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.id}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not {"is_superuser", "is_staff", "groups", "user_permissions", "role"} & set(form.fields)
    forged = {"username": "ada", "is_active": "on", "is_superuser": "on", "role": "admin"}
    forged |= {"date_joined_0": "2026-01-01", "date_joined_1": "00:00"}
    client.post(f"/admin/accounts/user/{admin_user.id}/change/", forged)
    admin_user.refresh_from_db()
    assert admin_user.is_active and not admin_user.is_superuser
    password = {"password1": "x1y2z3w4!", "password2": "x1y2z3w4!"}
    assert client.get(f"/admin/accounts/user/{root.id}/password/").status_code == 403
    assert client.post(f"/admin/accounts/user/{root.id}/password/", password).status_code == 403
    root.refresh_from_db()
    assert root.check_password("pw")
