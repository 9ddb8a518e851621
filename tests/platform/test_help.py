"""Hints and solutions: revealed one at a time on the page, the API and the CLI, under the cohort's
solution rule, every reveal recorded and shown to staff and in the exports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise
from course.progress.models import ExerciseProgress, Reveal
from tests.platform.support import client_for
from tests.support import EXERCISES

pytestmark = pytest.mark.django_db
HINTS = sorted((EXERCISES / "numpy" / "normalize-rows" / "hints").glob("*.md"))
WALKTHROUGH = (EXERCISES / "numpy" / "normalize-rows" / "walkthrough.md").read_text()


def _attempts(learner, slug: str, n: int, *, passed: bool = False) -> None:
    ExerciseProgress.objects.update_or_create(
        learner=learner,
        exercise=Exercise.objects.get(slug=slug),
        defaults={
            "attempts": n,
            "state": ExerciseProgress.State.PASSED if passed else ExerciseProgress.State.ATTEMPTED,
            "passed_at": timezone.now() if passed else None,
            "max_score": 1,
        },
    )


def test_hints_are_revealed_one_at_a_time_and_recorded(curriculum, learner):
    client = client_for(learner)
    help_ = client.get("/api/v1/exercises/normalize-rows/help").json()
    assert (help_["hints_total"], help_["hints"], help_["solution"]) == (3, [], None)
    for number in (1, 2, 3):
        shown = client.post("/api/v1/exercises/normalize-rows/hints").json()
        assert shown["hints"][-1] == HINTS[number - 1].read_text() and len(shown["hints"]) == number
    done = client.post("/api/v1/exercises/normalize-rows/hints")
    assert done.status_code == 409 and "all 3 hint(s)" in done.json()["detail"]
    reveals = Reveal.objects.filter(learner=learner, kind=Reveal.Kind.HINT)
    assert list(reveals.values_list("number", flat=True)) == [1, 2, 3]
    assert {r.version_id for r in reveals} == {Exercise.objects.get(slug="normalize-rows").current_version_id}
    assert client.post("/api/v1/exercises/no-such-thing/hints").status_code == 404


def test_a_new_cohort_starts_with_the_course_rule(db, settings):
    settings.SOLUTION_AFTER_ATTEMPTS = 5
    cohort = Cohort.objects.create(name="new")
    assert (cohort.solution_policy, cohort.solution_after_attempts) == (Cohort.SolutionPolicy.AFTER_ATTEMPTS, 5)


def test_the_solution_opens_after_attempts_by_default_and_is_recorded_once(curriculum, learner):
    client = client_for(learner)
    closed = client.post("/api/v1/exercises/normalize-rows/solution")
    assert closed.status_code == 409
    assert "available after 3 graded attempt(s) or a pass (you made 0)" in closed.json()["detail"]
    assert not Reveal.objects.exists()
    _attempts(learner, "normalize-rows", 3)
    assert client.get("/api/v1/exercises/normalize-rows/help").json()["solution_open"] is True
    for _ in range(2):
        shown = client.post("/api/v1/exercises/normalize-rows/solution").json()
        assert shown["solution"] == WALKTHROUGH
    assert Reveal.objects.filter(kind=Reveal.Kind.SOLUTION).count() == 1
    # Nor hints nor solution of an exercise the learner may not work on yet: its module is locked.
    _attempts(learner, "causal-attention-pattern", 5)
    for kind in ("solution", "hints"):
        locked = client.post(f"/api/v1/exercises/causal-attention-pattern/{kind}")
        assert locked.status_code == 403 and "is locked" in locked.json()["detail"]
    assert not Reveal.objects.filter(exercise__slug="causal-attention-pattern").exists()
    help_ = client.get("/api/v1/exercises/causal-attention-pattern/help").json()
    assert (
        help_["locked"] and not help_["solution_open"] and "opens with the exercise's module" in help_["solution_rule"]
    )
    page = Client()
    page.force_login(learner)
    html = page.get("/exercises/causal-attention-pattern/").content.decode()
    assert 'id="hints-locked"' in html and 'id="reveal-hint"' not in html and 'id="reveal-solution"' not in html
    # Open (the cohort made prerequisites advice), and without a walkthrough: the reference's code.
    cohort = Cohort.objects.create(name="advised", prerequisites_advisory=True)
    Enrollment.objects.create(cohort=cohort, user=learner)
    reference = client.post("/api/v1/exercises/causal-attention-pattern/solution").json()["solution"]
    assert reference.startswith("The reference solution:") and "```python" in reference and "einsum" in reference


@pytest.mark.parametrize(
    ("policy", "attempts", "passed", "open_"),
    [
        ("always", 0, False, True),
        ("never", 9, True, False),
        ("after_passing", 9, False, False),
        ("after_passing", 1, True, True),
        ("after_attempts", 1, False, True),  # the cohort's number is 1
        ("after_attempts", 0, False, False),
    ],
)
def test_a_cohorts_rule_decides_when_the_solution_opens(
    curriculum, learner, instructor, cohort, policy, attempts, passed, open_
):
    staff = client_for(instructor)
    changed = staff.patch(
        f"/api/v1/cohorts/{cohort.id}", {"solution_policy": policy, "solution_after_attempts": 1}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["solution_policy"] == policy
    _attempts(learner, "normalize-rows", attempts, passed=passed)
    response = client_for(learner).post("/api/v1/exercises/normalize-rows/solution")
    assert response.status_code == (200 if open_ else 409), response.json()
    # Staff always may.
    assert staff.post("/api/v1/exercises/normalize-rows/solution").status_code == 200


def test_the_most_generous_of_a_learners_cohorts_applies_and_bad_settings_are_refused(
    curriculum, learner, instructor, cohort
):
    staff = client_for(instructor)
    staff.patch(f"/api/v1/cohorts/{cohort.id}", {"solution_policy": "never"}, format="json")
    other = Cohort.objects.create(name="Open", solution_policy=Cohort.SolutionPolicy.ALWAYS)
    Enrollment.objects.create(cohort=other, user=learner, role=Enrollment.Role.LEARNER)
    assert client_for(learner).post("/api/v1/exercises/normalize-rows/solution").status_code == 200
    bad = staff.patch(f"/api/v1/cohorts/{cohort.id}", {"solution_policy": "sometimes"}, format="json")
    assert bad.status_code == 400
    too_many = staff.patch(f"/api/v1/cohorts/{cohort.id}", {"solution_after_attempts": 101}, format="json")
    assert too_many.status_code == 400 and "between 0 and 100" in too_many.json()["detail"]
    assert client_for(learner).patch(f"/api/v1/cohorts/{cohort.id}", {}, format="json").status_code == 404


def test_the_exercise_page_reveals_hints_and_the_solution(curriculum, learner):
    page = Client()
    page.force_login(learner)
    html = page.get("/exercises/normalize-rows/").content.decode()
    assert 'id="reveal-hint">Show hint 1 of 3<' in html and 'id="solution-rule"' in html
    html = page.post("/exercises/normalize-rows/hint", follow=True).content.decode()
    assert 'data-hint="1"' in html and "keepdims" not in html.split('data-hint="1"')[1].split("</div>")[0]
    assert "Show hint 2 of 3" in html
    refused = page.post("/exercises/normalize-rows/solution", follow=True).content.decode()
    assert "not available yet" in refused
    _attempts(learner, "normalize-rows", 3)
    shown = page.post("/exercises/normalize-rows/solution", follow=True).content.decode()
    assert 'class="solution card"' in shown and "np.zeros_like(x)" in shown


def test_staff_see_who_passed_after_seeing_the_solution(curriculum, learner, other_learner, instructor, cohort):
    Enrollment.objects.create(cohort=cohort, user=other_learner, role=Enrollment.Role.LEARNER)
    exercise = Exercise.objects.get(slug="normalize-rows")
    for who in (learner, other_learner):
        Reveal.objects.create(learner=who, exercise=exercise, version=exercise.current_version, kind="hint", number=1)
    solution = Reveal.objects.create(
        learner=learner, exercise=exercise, version=exercise.current_version, kind="solution"
    )
    _attempts(learner, "normalize-rows", 4, passed=True)
    ExerciseProgress.objects.filter(learner=learner).update(passed_at=solution.revealed_at + timedelta(minutes=5))
    staff = client_for(instructor)
    csv = staff.get(f"/api/v1/cohorts/{cohort.id}/dashboard?format=csv&section=reveals").content.decode()
    lines = csv.strip().splitlines()
    assert lines[0] == "learner,exercise,hints,solution_at,passed_at,passed_after_solution"
    assert lines[1].startswith("alice,normalize-rows,1,") and lines[1].endswith(",True")
    assert lines[2].startswith("bob,normalize-rows,1,,,False")
    page = Client()
    page.force_login(instructor)
    assert "<strong>after seeing the solution</strong>" in page.get(f"/cohorts/{cohort.id}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_cli_reveals_hints_and_the_solution(live_server, curriculum, learner, tmp_path, monkeypatch, capsys):
    from course.cli import main

    monkeypatch.setenv("COURSE_CREDENTIALS", str(tmp_path / "credentials.json"))
    monkeypatch.setenv("COURSE_PASSWORD", "pw")
    assert main(["login", "--url", live_server.url, "--username", "alice"]) == 0
    assert main(["hint", "normalize-rows"]) == 0
    assert "3 more hint(s): course hint normalize-rows --next" in capsys.readouterr().out
    assert main(["hint", "normalize-rows", "--next"]) == 0
    out = capsys.readouterr().out
    assert "--- hint 1 of 3 ---" in out and HINTS[0].read_text().strip() in out
    assert main(["solution", "normalize-rows"]) == 2
    assert "not available yet" in capsys.readouterr().err
    _attempts(learner, "normalize-rows", 3)
    assert main(["solution", "normalize-rows"]) == 0
    assert "np.zeros_like(x)" in capsys.readouterr().out


def test_the_exercise_statistics_count_who_passed_after_seeing_the_solution(
    curriculum, learner, other_learner, instructor, cohort
):
    Enrollment.objects.create(cohort=cohort, user=other_learner, role=Enrollment.Role.LEARNER)
    from tests.platform.support import graded_submission

    exercise = Exercise.objects.get(slug="normalize-rows")
    for who in (learner, other_learner):
        graded_submission(who, exercise, passed=True)
        Reveal.objects.create(learner=who, exercise=exercise, version=exercise.current_version, kind="hint", number=1)
    seen = Reveal.objects.create(learner=learner, exercise=exercise, version=exercise.current_version, kind="solution")
    _attempts(learner, "normalize-rows", 4, passed=True)
    ExerciseProgress.objects.filter(learner=learner).update(passed_at=seen.revealed_at + timedelta(minutes=5))
    # Counted too: a learner who looked at the solution before submitting anything.
    reader = user_create(username="reader", role="learner", password="pw")[0]
    Enrollment.objects.create(cohort=cohort, user=reader, role=Enrollment.Role.LEARNER)
    Reveal.objects.create(learner=reader, exercise=exercise, version=exercise.current_version, kind="solution")
    stats = client_for(instructor).get("/api/v1/exercises/normalize-rows/statistics").json()
    assert (stats["hints_seen"], stats["solution_seen"], stats["passed_after_solution"]) == (2, 2, 1)
    page = Client()
    page.force_login(instructor)
    html = page.get("/staff/exercises/normalize-rows/").content.decode()
    assert "2 learners saw a hint; 2 saw the solution, of whom <strong>1 passed after seeing it</strong>" in html
