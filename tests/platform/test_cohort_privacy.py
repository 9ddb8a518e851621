"""Cohorts are private: an instructor sees their own cohorts' learners everywhere (admin, staff pages,
regrades), organisers see everyone, and nobody reaches another cohort by editing a URL or a form."""

from __future__ import annotations

import pytest
from django.test import Client

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise
from course.submissions.models import Regrade, Submission
from tests.platform.support import client_for, upload
from tests.support import EXERCISES

pytestmark = pytest.mark.django_db
SOLUTION = (EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb").read_bytes()


@pytest.fixture
def two_cohorts(curriculum):
    """Cohort 1 (instructor ines, learner alice) and cohort 2 (instructor ivan, learner bob), each
    learner with one graded submission that failed with a private message, and one by ines herself."""
    people = {}
    for name, cohort_name, role in (
        ("ines", "One", "staff"),
        ("alice", "One", "learner"),
        ("ivan", "Two", "staff"),
        ("bob", "Two", "learner"),
    ):
        user_role = User.Role.INSTRUCTOR if role == "staff" else User.Role.LEARNER
        people[name] = user_create(username=name, role=user_role, password="pw")[0]
        cohort, _ = Cohort.objects.get_or_create(name=cohort_name)
        Enrollment.objects.create(cohort=cohort, user=people[name], role=role)
    for name, score in (("alice", 3.0), ("bob", 2.0), ("ines", 8.0)):
        sub_id = upload(client_for(people[name]), "normalize-rows", SOLUTION).json()["id"]
        Submission.objects.filter(id=sub_id).update(
            status="graded", verdict="runtime_error", score=score, result={"output": f"secret of {name}"}
        )
    return people


def _admin(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_instructor_sees_only_their_cohort_in_the_admin(two_cohorts):
    ines = _admin(two_cohorts["ines"])
    for page in (
        "/admin/submissions/submission/",
        "/admin/submissions/testresult/",
        "/admin/cohorts/enrollment/",
        "/admin/cohorts/cohort/",
    ):
        html = ines.get(page).content.decode()
        assert "bob" not in html and "Two" not in html, page
    assert "alice" in ines.get("/admin/submissions/submission/").content.decode()
    bobs = Submission.objects.get(learner=two_cohorts["bob"])
    response = ines.get(f"/admin/submissions/submission/{bobs.id}/change/", follow=True)
    assert "secret of bob" not in response.content.decode()  # "does not exist" for her
    assert ines.get(f"/admin/cohorts/cohort/{Cohort.objects.get(name='Two').id}/change/").status_code in (302, 404)


def test_an_instructor_cannot_enrol_anyone_in_any_cohort(two_cohorts):
    ines = _admin(two_cohorts["ines"])
    two = Cohort.objects.get(name="Two")
    before = Enrollment.objects.count()
    response = ines.post(
        "/admin/cohorts/enrollment/add/", {"cohort": two.id, "user": two_cohorts["ines"].id, "role": "staff"}
    )
    assert response.status_code == 403
    assert Enrollment.objects.count() == before


def test_an_organiser_sees_every_cohort_in_the_admin(two_cohorts):
    ada = user_create(username="ada", role=User.Role.ADMIN, password="pw")[0]
    html = _admin(ada).get("/admin/submissions/submission/").content.decode()
    assert "alice" in html and "bob" in html


def test_exercise_statistics_count_only_the_viewers_learners(two_cohorts):
    page = _admin(two_cohorts["ines"]).get("/staff/exercises/normalize-rows/").content.decode()
    assert "<th>Attempts</th><td>1</td>" in page  # alice's; not bob's (cohort 2), not her own
    assert "alice" in page and "bob" not in page and "ines" not in page.split("Recent errors")[-1]


def test_a_regrade_covers_the_requesters_cohort_and_its_status_only_their_learners(two_cohorts):
    ines, ivan = client_for(two_cohorts["ines"]), client_for(two_cohorts["ivan"])
    response = ines.post("/api/v1/exercises/normalize-rows/regrade")
    assert response.status_code == 202 and response.json()["total"] == 2  # alice and ines herself
    regrade = Regrade.objects.get()
    copied = set(regrade.submissions.values_list("learner__username", flat=True))
    assert copied == {"alice", "ines"}
    assert ivan.get(f"/api/v1/regrades/{regrade.id}").status_code == 404  # nothing of his in it
    Submission.objects.filter(regrade=regrade).update(status="graded", score=0.0)
    lowered = ines.get(f"/api/v1/regrades/{regrade.id}").json()["lowered"]
    assert {row["learner"] for row in lowered} == {"alice", "ines"}


def test_regrades_are_one_per_exercise_and_bounded_in_all(two_cohorts, settings):
    ines, ivan = client_for(two_cohorts["ines"]), client_for(two_cohorts["ivan"])
    assert ines.post("/api/v1/exercises/normalize-rows/regrade").status_code == 202
    again = ivan.post("/api/v1/exercises/normalize-rows/regrade")
    assert again.status_code == 409 and "still running" in again.json()["detail"]
    settings.REGRADES_IN_FLIGHT = 1
    other = Exercise.objects.get(slug="causal-attention-pattern")
    Submission.objects.create(
        learner=two_cohorts["bob"], exercise=other, version=other.current_version, status="graded", max_score=1
    )
    busy = ivan.post("/api/v1/exercises/causal-attention-pattern/regrade")
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "60"
    Submission.objects.filter(regrade__isnull=False).update(status="graded")  # the first one finished
    assert ivan.post("/api/v1/exercises/causal-attention-pattern/regrade").status_code == 202
