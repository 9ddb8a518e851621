"""Skip what you know: checkpoints test a learner out of a module, cohorts may make prerequisites advice,
and every page, the API and the CLI say why a module is locked and how to open it."""

from __future__ import annotations

import pytest
from django.test import Client

from course.cohorts.models import Cohort, Enrollment
from course.cohorts.selectors import cohort_dashboard
from course.curriculum.models import Exercise
from course.progress.models import ActivityDay, ExerciseProgress
from course.progress.selectors import ModuleState, standings
from tests.platform.support import client_for, load_course, upload
from tests.support import EXERCISES

pytestmark = pytest.mark.django_db
# numpy requires python; calculus-backprop requires linear-algebra and numpy (curriculum.toml).
BUNDLES = [
    "python/parse-config",
    "linear-algebra/change-of-basis",
    "linear-algebra/svd-low-rank",
    "linear-algebra/symmetric-eigen",
    "numpy/normalize-rows",
    "numpy/pairwise-distances",
    "numpy/top-k-per-row",
    "calculus-backprop/numerical-gradients",
    "calculus-backprop/mlp-backward",
]
NOTEBOOK = (EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_bytes()


@pytest.fixture
def course(db, settings, tmp_path):
    return load_course(tmp_path / "exercises", settings, BUNDLES)


def _pass(learner, *slugs: str) -> None:
    for slug in slugs:
        ExerciseProgress.objects.update_or_create(
            learner=learner,
            exercise=Exercise.objects.get(slug=slug),
            defaults={"state": ExerciseProgress.State.PASSED, "best_score": 1, "max_score": 1, "attempts": 1},
        )


def _modules(learner) -> dict:
    return {m["slug"]: m for m in client_for(learner).get("/api/v1/modules").json()}


def test_a_locked_module_says_what_it_needs_and_which_checkpoints_skip_it(course, learner):
    modules = _modules(learner)
    calculus = modules["calculus-backprop"]
    assert calculus["state"] == "locked"
    assert [(m["slug"], [c["slug"] for c in m["checkpoints"]]) for m in calculus["missing"]] == [
        ("linear-algebra", ["change-of-basis", "svd-low-rank"]),
        ("numpy", ["pairwise-distances", "top-k-per-row"]),
    ]
    assert "test out by passing its checkpoints pairwise-distances, top-k-per-row" in calculus["unlock"]
    assert calculus["criteria"] and modules["numpy"]["criteria"]
    numpy = {e["slug"]: e for e in modules["numpy"]["exercises"]}
    assert numpy["pairwise-distances"]["checkpoint"] and not numpy["normalize-rows"]["checkpoint"]
    assert modules["python"]["state"] == "available" and modules["python"]["unlock"] == ""


def test_checkpoints_are_open_while_their_module_is_locked(course, learner):
    client = client_for(learner)
    assert _modules(learner)["numpy"]["state"] == "locked"  # python is not done
    refused = upload(client, "normalize-rows", NOTEBOOK)
    assert refused.status_code == 403
    assert "needs 'python' (finish it, or test out by passing its checkpoints parse-config)" in refused.json()["detail"]
    assert upload(client, "pairwise-distances", NOTEBOOK).status_code == 202


def test_passing_every_checkpoint_tests_out_and_unlocks_what_requires_it(course, learner):
    _pass(learner, "pairwise-distances")
    assert _modules(learner)["numpy"]["state"] == "locked"  # one checkpoint of two
    _pass(learner, "top-k-per-row", "change-of-basis", "svd-low-rank")
    modules = _modules(learner)
    assert modules["numpy"]["state"] == modules["linear-algebra"]["state"] == "tested_out"
    assert modules["calculus-backprop"]["state"] == "available" and modules["calculus-backprop"]["missing"] == []
    assert upload(client_for(learner), "mlp-backward", NOTEBOOK).status_code == 202
    # Finishing every exercise makes it complete, whatever came before.
    _pass(learner, "normalize-rows")
    assert _modules(learner)["numpy"]["state"] == "complete"


def test_advisory_prerequisites_lock_nothing_but_still_advise(course, learner, instructor, cohort):
    staff = client_for(instructor)
    assert (
        client_for(learner)
        .patch(f"/api/v1/cohorts/{cohort.id}", {"prerequisites_advisory": True}, format="json")
        .status_code
        == 404
    ), "a learner may not change the cohort"
    response = staff.patch(f"/api/v1/cohorts/{cohort.id}", {"prerequisites_advisory": True}, format="json")
    assert response.status_code == 200 and response.json()["prerequisites_advisory"] is True
    calculus = _modules(learner)["calculus-backprop"]
    assert calculus["state"] == "available" and calculus["advisory"] is True
    assert [m["slug"] for m in calculus["missing"]] == ["linear-algebra", "numpy"] and calculus["unlock"] == ""
    assert upload(client_for(learner), "mlp-backward", NOTEBOOK).status_code == 202
    bad = staff.patch(f"/api/v1/cohorts/{cohort.id}", {"prerequisites_advisory": "sometimes"}, format="json")
    assert bad.status_code == 400
    other = Cohort.objects.create(name="Other")
    assert (
        staff.patch(f"/api/v1/cohorts/{other.id}", {"prerequisites_advisory": True}, format="json").status_code == 404
    )
    staff.patch(f"/api/v1/cohorts/{cohort.id}", {"prerequisites_advisory": False}, format="json")
    assert _modules(learner)["calculus-backprop"]["state"] == "locked"


def test_pages_say_why_and_how_and_staff_toggle_advice(course, learner, instructor, cohort):
    page = Client()
    page.force_login(learner)
    dashboard = page.get("/").content.decode()
    assert 'data-why="calculus-backprop"' in dashboard and "Locked: needs" in dashboard
    assert '<a href="/exercises/pairwise-distances/"' in dashboard, "a checkpoint of a locked module is a link"
    assert "success criteria" in dashboard
    exercise = page.get("/exercises/normalize-rows/").content.decode()
    assert "This module is locked: it needs <strong>Python</strong>" in exercise and 'id="submit-form"' not in exercise
    checkpoint = page.get("/exercises/pairwise-distances/").content.decode()
    assert "open although the module is locked" in checkpoint and 'id="submit-form"' in checkpoint
    staff = Client()
    staff.force_login(instructor)
    assert page.post(f"/cohorts/{cohort.id}/settings", {"advisory": "1"}).status_code == 404
    response = staff.post(f"/cohorts/{cohort.id}/settings", {"advisory": "1"}, follow=True)
    assert 'id="prerequisites-mode">advice<' in response.content.decode()
    assert Cohort.objects.get(id=cohort.id).prerequisites_advisory
    assert "Advised first:" in page.get("/").content.decode()
    for attempts, said in (("two", "must be a whole number"), ("101", "between 0 and 100")):
        refused = staff.post(f"/cohorts/{cohort.id}/settings", {"solution_after_attempts": attempts}, follow=True)
        assert said in refused.content.decode()
    assert Cohort.objects.get(id=cohort.id).solution_after_attempts == 3


def test_analytics_count_tested_out_as_skipped_not_stuck(course, learner, other_learner, cohort):
    Enrollment.objects.create(cohort=cohort, user=other_learner, role=Enrollment.Role.LEARNER)
    _pass(learner, "pairwise-distances", "top-k-per-row")
    from datetime import date

    for who, seconds in ((learner, 600), (other_learner, 7200)):
        ActivityDay.objects.create(
            learner=who, exercise=Exercise.objects.get(slug="pairwise-distances"), day=date.today(), seconds=seconds
        )
    numpy = next(m for m in cohort_dashboard(cohort=cohort)["modules"] if m["slug"] == "numpy")
    assert numpy["funnel"]["tested_out"] == 1 and numpy["funnel"]["locked"] == 1
    assert numpy["hours"] == [2.0], "the tested-out learner's time is not the module's"
    table = standings(learner_ids=[learner.id, other_learner.id], detail=False)
    assert [m.state for m in table[learner.id] if m.slug == "numpy"] == [ModuleState.TESTED_OUT]
    csv = client_for(cohort.enrollments.get(role="staff").user).get(
        f"/api/v1/cohorts/{cohort.id}/dashboard?format=csv&section=funnel"
    )
    assert "tested_out" in csv.content.decode().splitlines()[0]


@pytest.mark.django_db(transaction=True)
def test_the_cli_says_why_a_module_is_locked(live_server, course, learner, tmp_path, monkeypatch, capsys):
    from course.cli import main

    monkeypatch.setenv("COURSE_CREDENTIALS", str(tmp_path / "credentials.json"))
    monkeypatch.setenv("COURSE_PASSWORD", "pw")
    assert main(["login", "--url", live_server.url, "--username", "alice"]) == 0
    capsys.readouterr()
    assert main(["modules", "--exercises"]) == 0
    out = capsys.readouterr().out
    assert "locked: it needs 'linear-algebra' (finish it, or test out by passing its checkpoints change-of-basis" in out
    assert "pairwise-distances" in out and "(checkpoint)" in out


def test_a_learner_who_finished_or_tested_out_of_everything_is_not_stuck(course, learner, other_learner, cohort):
    Enrollment.objects.create(cohort=cohort, user=other_learner, role=Enrollment.Role.LEARNER)
    _pass(learner, "parse-config", "change-of-basis", "svd-low-rank", "pairwise-distances", "top-k-per-row")
    _pass(learner, "numerical-gradients", "mlp-backward")
    stuck = {s["learner"] for s in cohort_dashboard(cohort=cohort)["stuck"]}
    assert stuck == {"bob"}, "alice has nothing left to do; bob has not started"
