"""Item statistics of an exercise (course.submissions.item_stats): figures checked by hand on built histories,
the staff page, the statistics API and its CSV, and a number of queries that does not grow with the cohort."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.platform.support import client_for, enrolled_learners, graded_submission, synthetic_exercise

pytestmark = pytest.mark.django_db

SHAPE, VALUES, IMPORTS = "test_shape", "test_values", "test_imports"
# Six learners' graded attempts at normalize-rows, in order: which of its current version's three
# tests each attempt passed (SHAPE, VALUES, IMPORTS). Full marks (a pass) is all three.
HISTORIES = [
    [(1, 1, 1)],  # passes first time
    [(1, 0, 1), (1, 1, 1)],  # second attempt
    [(0, 0, 1), (1, 0, 1), (1, 1, 1)],  # third attempt
    [(1, 1, 1)],  # first time
    [(1, 0, 1), (1, 0, 1)],  # never
    [(0, 0, 1)],  # never
]
# Which of the module's two other exercises each of them passed (a failing try of the first where absent).
OTHERS_PASSED = [(1, 1), (1, 0), (0, 1), (1, 1), (0, 0), (1, 0)]
# Active seconds on normalize-rows: on the day they worked on it, and two days later (after passing).
SECONDS = [(600, 0), (1200, 0), (1800, 3600), (0, 0), (5000, 0), (0, 0)]


def _tests(outcome: tuple[int, int, int]) -> dict[str, bool]:
    return dict(zip((SHAPE, VALUES, IMPORTS), map(bool, outcome), strict=True))


def _build(exercise, others, learners, start) -> None:
    """Each learner i gets the (i mod 6)th history, other-exercise results and time, in time order."""
    from course.progress.models import ActivityDay

    for i, learner in enumerate(learners):
        k = i % len(HISTORIES)
        for n, outcome in enumerate(HISTORIES[k]):
            graded_submission(learner, exercise, _tests(outcome), at=start + timedelta(minutes=n))
        for other, passed in zip(others, OTHERS_PASSED[k], strict=True):
            if passed or other is others[0]:
                graded_submission(learner, other, passed=bool(passed), at=start + timedelta(hours=1))
        for offset, seconds in zip((0, 2), SECONDS[k], strict=True):
            if seconds:
                ActivityDay.objects.create(
                    learner=learner, exercise=exercise, day=start.date() + timedelta(days=offset), seconds=seconds
                )


@pytest.fixture
def start():
    # Noon, so that every attempt of a history falls on the same (UTC) day.
    return (timezone.now() - timedelta(days=10)).replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def numpy_module(curriculum):
    """normalize-rows (the item), its module's two other published exercises and an unpublished one."""
    from course.curriculum.models import Exercise, Module

    exercise = Exercise.objects.select_related("current_version", "module").get(slug="normalize-rows")
    others = [synthetic_exercise("other-a"), synthetic_exercise("other-b")]
    Exercise.objects.create(module=Module.objects.get(slug="numpy"), slug="draft", title="Draft")
    return exercise, others


@pytest.fixture
def six(numpy_module, cohort, learner, instructor, start):
    """The six histories above in the instructor's cohort, plus what the statistics must leave out."""
    from course.accounts.services import user_create
    from course.cohorts.models import Cohort, Enrollment
    from course.curriculum.models import ExerciseVersion
    from course.progress.models import ExerciseProgress
    from course.submissions.models import Regrade, Submission

    exercise, others = numpy_module
    learners = enrolled_learners(cohort, 6, prefix="six")
    _build(exercise, others, learners, start)
    # An attempt at an older version before everything else: an attempt, but its tests are not the current ones
    # (its SHAPE passed: counted, learner 6 would have passed SHAPE).
    old = ExerciseVersion.objects.create(
        exercise=exercise, content_hash="0" * 64, title="old", points=2, template={}, bundle_path="/nonexistent"
    )
    graded_submission(
        learners[5], exercise, {SHAPE: True, "test_old": False}, version=old, at=start - timedelta(minutes=1)
    )
    # Not attempts: one still queued, one the platform failed to grade.
    for status, verdict in ((Submission.Status.QUEUED, ""), (Submission.Status.ERROR, "internal_error")):
        sub = graded_submission(learners[5], exercise, _tests((1, 1, 1)), at=start + timedelta(hours=2))
        Submission.objects.filter(id=sub.id).update(status=status, verdict=verdict)
    # Not the learners' own work: a regrade copy passing learner 6 here and learner 5 on other-b, and
    # the instructor's own submission.
    regrade = Regrade.objects.create(exercise=exercise, version=exercise.current_version, requested_by=instructor)
    graded_submission(learners[5], exercise, _tests((1, 1, 1)), regrade=regrade, at=start + timedelta(hours=3))
    graded_submission(learners[4], others[1], passed=True, regrade=regrade, at=start + timedelta(hours=3))
    graded_submission(instructor, exercise, _tests((1, 1, 1)), at=start)
    # The regrade raised learner 6's standing; learners 1-4 passed on their own.
    ExerciseProgress.objects.bulk_create(
        ExerciseProgress(learner=u, exercise=exercise, state=ExerciseProgress.State.PASSED)
        for u in [*learners[:4], learners[5]]
    )
    # A learner of another cohort, whom the instructor does not see: passes first time.
    outsider = user_create(username="outsider", role="learner", password="pw")[0]
    Enrollment.objects.create(cohort=Cohort.objects.create(name="Elsewhere"), user=outsider)
    graded_submission(outsider, exercise, _tests((1, 1, 1)), at=start)
    return exercise, learners


def _stats(exercise, viewer):
    from course.submissions.item_stats import exercise_item_stats

    return exercise_item_stats(slug=exercise.slug, viewer=viewer)


def test_exercise_figures_from_six_known_histories(six, instructor):
    from course.submissions.item_stats import Spread

    exercise, _ = six
    stats = _stats(exercise, instructor)
    assert (stats.attempts, stats.learners, stats.passed, stats.standing_passed) == (11, 6, 4, 5)
    assert stats.first_attempt_passed == 2 and stats.first_attempt_pass_rate == pytest.approx(1 / 3)
    # Attempts to pass 1, 2, 3, 1 -> sorted 1, 1, 2, 3: quartiles by linear interpolation.
    assert stats.attempts_to_pass == Spread(q1=1.0, median=1.5, q3=2.25, n=4)
    # 600, 1200 and 1800 s up to the day they passed (learner 3's 3600 s two days later left out;
    # learner 4 has no recorded time and is not counted as zero).
    assert stats.seconds_to_pass == Spread(q1=900.0, median=1200.0, q3=1500.0, n=3)
    assert stats.other_exercises == 2  # the draft has no version
    # passed: 1 1 1 1 0 0; share of the others passed: 1 .5 .5 1 0 .5. By hand:
    # Sxy = 2/3, Sxx = 4/3, Syy = 17/24, r = (2/3) / sqrt(4/3 * 17/24) = (2/3) * sqrt(18/17).
    assert stats.discrimination == pytest.approx(2 / 3 * math.sqrt(18 / 17))
    assert stats.version == exercise.current_version.content_hash


def test_per_test_figures_of_the_current_version(six, instructor):
    exercise, _ = six
    tests = {t.name: t for t in _stats(exercise, instructor).tests}
    assert list(tests) == [IMPORTS, SHAPE, VALUES]  # test_old belongs to an older version
    counts = {n: (t.learners_ran, t.learners_passed, t.first_attempt_passed, t.failures) for n, t in tests.items()}
    # ran, ever passed, passed the first time they ran it, failing runs
    assert counts == {SHAPE: (6, 5, 4, 2), VALUES: (6, 4, 2, 6), IMPORTS: (6, 6, 6, 0)}
    shape, values, imports = tests[SHAPE], tests[VALUES], tests[IMPORTS]
    assert shape.passed_share == pytest.approx(5 / 6) and values.first_attempt_pass_rate == pytest.approx(1 / 3)
    # Best submissions: learners 1-4 pass all three, learner 5 (1, 0, 1), learner 6 (0, 0, 1).
    # SHAPE: x = 1 1 1 1 1 0 against the share of VALUES and IMPORTS: 1 1 1 1 .5 .5 -> Sxy = 1/3,
    # Sxx = 5/6, Syy = 1/3, r = (1/3) / sqrt(5/18) = sqrt(2/5). VALUES (x = 1 1 1 1 0 0, y = 1 1 1 1 1 .5)
    # comes to the same; IMPORTS, which everybody passes, tells nobody apart.
    assert shape.discrimination == pytest.approx(math.sqrt(2 / 5))
    assert values.discrimination == pytest.approx(math.sqrt(2 / 5))
    assert imports.discrimination is None
    assert not any(t.likely_broken for t in tests.values())


def test_organisers_see_every_cohort(six):
    from course.accounts.services import user_create

    exercise, _ = six
    admin = user_create(username="ada", role="admin", password="pw")[0]
    stats = _stats(exercise, admin)
    assert (stats.learners, stats.first_attempt_passed, stats.attempts) == (7, 3, 12)


def test_too_few_learners_is_not_enough_data(numpy_module, cohort, instructor, client, start):
    exercise, others = numpy_module
    _build(exercise, others, enrolled_learners(cohort, 4, prefix="four"), start)
    stats = _stats(exercise, instructor)
    assert stats.learners == 4 and stats.discrimination is None
    assert all(t.discrimination is None and not t.likely_broken for t in stats.tests)
    client.force_login(instructor)
    page = client.get("/staff/exercises/normalize-rows/").content.decode()
    assert '<td id="discrimination">not enough data' in page


def test_a_test_most_learners_never_pass_is_flagged_likely_broken(curriculum, cohort, instructor, client, start):
    from course.submissions.item_stats import BROKEN_MIN_LEARNERS, BROKEN_NEVER_PASSED_SHARE

    assert (BROKEN_MIN_LEARNERS, BROKEN_NEVER_PASSED_SHARE) == (5, 0.8)  # the thresholds the data below straddles
    exercise = synthetic_exercise("flaky", module="python")
    learners = enrolled_learners(cohort, 6, prefix="flaky")
    runs = [  # broken, hard, rare (absent: not run)
        {"test_broken": True, "test_hard": True},
        {"test_broken": False, "test_hard": True, "test_rare": False},
        {"test_broken": False, "test_hard": False, "test_rare": False},
        {"test_broken": False, "test_hard": False, "test_rare": False},
        {"test_broken": False, "test_hard": False, "test_rare": False},
    ]
    for learner, tests in zip(learners, runs, strict=False):
        graded_submission(learner, exercise, tests, at=start)
    client.force_login(instructor)

    # 4 of 5 never passed test_broken (80%): flagged. test_hard: 3 of 5 (60%). test_rare: all 4 who ran
    # it failed, but 4 learners are too few to say.
    stats = _stats(exercise, instructor)
    assert [t.name for t in stats.broken_tests] == ["test_broken"]
    page = client.get("/staff/exercises/flaky/").content.decode()
    banner = page.split('id="broken-tests">')[1].split("</div>")[0]
    assert "<code>test_broken</code> (passed by 1 of the 5 learners who ran it)" in banner
    assert "test_hard" not in banner and "test_rare" not in banner
    assert 'data-test="test_broken" class="likely-broken"' in page and page.count("likely broken</strong>") == 1

    # A sixth learner passes test_broken (4 of 6 never did: 67%) and is the fifth to fail test_rare.
    graded_submission(learners[5], exercise, {"test_broken": True, "test_hard": False, "test_rare": False}, at=start)
    stats = _stats(exercise, instructor)
    assert [t.name for t in stats.broken_tests] == ["test_rare"]
    page = client.get("/staff/exercises/flaky/").content.decode()
    banner = page.split('id="broken-tests">')[1].split("</div>")[0]
    assert "<code>test_rare</code> (passed by 0 of the 5 learners who ran it)" in banner and "test_broken" not in banner
    assert 'data-test="test_rare" class="likely-broken"' in page and page.count("likely broken</strong>") == 1
    rows = _csv(client_for(instructor).get("/api/v1/exercises/flaky/statistics?format=csv"))
    assert {r["name"]: r["likely_broken"] for r in rows if r["kind"] == "test"} == {
        "test_broken": "False",
        "test_hard": "False",
        "test_rare": "True",
    }


def test_the_page_shows_the_figures(six, client, instructor):
    client.force_login(instructor)
    page = client.get("/staff/exercises/normalize-rows/").content.decode()
    assert "<th>Attempts</th><td>11</td>" in page
    assert '<td id="first-attempt">33% (2/6)</td>' in page
    assert '<td id="pass-rate">67% (4/6)</td>' in page and '<td id="standing-passed">83% (5/6)</td>' in page
    assert "Median attempts to pass</th><td>1.5</td>" in page
    assert '<td id="attempts-quartiles">1.0 – 2.25 (4 learners)</td>' in page
    assert '<td id="time-to-pass">20m (3 learners with recorded time)</td>' in page
    assert '<td id="discrimination">0.69' in page
    assert "<td>83% (5/6)</td>\n  <td>67% (4/6)</td>\n  <td>0.63</td>" in page  # test_shape's row
    assert "test_values: 6 failure(s)" in page and "test_imports: " not in page  # never failed
    assert 'id="broken-tests"' not in page and "likely broken</strong>" not in page
    assert 'href="/api/v1/exercises/normalize-rows/statistics?format=csv" id="download-csv"' in page
    assert "internal_error" in page  # among the recent errors


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_api_gives_json_and_a_csv(six, instructor):
    from course.submissions.item_stats import TABLE_COLUMNS

    api = client_for(instructor)
    body = api.get("/api/v1/exercises/normalize-rows/statistics").json()
    assert (body["attempts"], body["learners"], body["first_attempt_passed"]) == (11, 6, 2)
    assert body["attempts_to_pass"] == {"q1": 1.0, "median": 1.5, "q3": 2.25, "n": 4}
    assert body["seconds_to_pass"]["median"] == 1200.0
    assert body["discrimination"] == pytest.approx(2 / 3 * math.sqrt(18 / 17))
    shape = next(t for t in body["tests"] if t["name"] == SHAPE)
    assert shape == {
        "name": SHAPE,
        "learners_ran": 6,
        "learners_passed": 5,
        "passed_share": pytest.approx(5 / 6),
        "first_attempt_passed": 4,
        "first_attempt_pass_rate": pytest.approx(2 / 3),
        "failures": 2,
        "discrimination": pytest.approx(math.sqrt(2 / 5)),
        "likely_broken": False,
    }

    response = api.get("/api/v1/exercises/normalize-rows/statistics?format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="exercise-normalize-rows-statistics.csv"'
    rows = _csv(response)
    assert tuple(rows[0]) == TABLE_COLUMNS
    figures = {r["name"]: r["value"] for r in rows if r["kind"] == "exercise"}
    assert figures["attempts"] == "11" and figures["learners"] == "6" and figures["passed"] == "4"
    assert figures["first_attempt_pass_rate"] == "0.3333"
    assert (figures["attempts_to_pass_q1"], figures["attempts_to_pass_median"], figures["attempts_to_pass_q3"]) == (
        "1.0",
        "1.5",
        "2.25",
    )
    assert figures["seconds_to_pass_median"] == "1200.0" and figures["seconds_to_pass_learners"] == "3"
    assert figures["discrimination"] == "0.686" and figures["likely_broken_tests"] == "0"
    tests = [r for r in rows if r["kind"] == "test"]
    assert [r["name"] for r in tests] == [IMPORTS, SHAPE, VALUES]
    assert tests[1] == {
        "kind": "test",
        "name": SHAPE,
        "value": "",
        "learners_ran": "6",
        "learners_passed": "5",
        "passed_share": "0.8333",
        "first_attempt_pass_rate": "0.6667",
        "discrimination": "0.6325",
        "likely_broken": "False",
    }
    assert tests[0]["discrimination"] == ""  # not enough data: everybody passes it


def test_only_staff_get_the_statistics(six, learner, instructor, client):
    url = "/api/v1/exercises/normalize-rows/statistics"
    assert client_for(None).get(url).status_code in (401, 403)
    for suffix in ("", "?format=csv"):
        refused = client_for(learner).get(url + suffix)
        assert refused.status_code == 403 and refused["Content-Type"] == "application/json"
    assert client_for(learner).get("/api/v1/exercises/no-such/statistics").status_code == 403
    missing = client_for(instructor).get("/api/v1/exercises/no-such/statistics?format=csv")
    assert missing.status_code == 404 and "no-such" in missing.json()["detail"]
    assert client_for(instructor).get(url).status_code == 200
    client.force_login(learner)
    assert client.get("/staff/exercises/normalize-rows/").status_code == 404
    client.force_login(instructor)
    assert client.get("/staff/exercises/normalize-rows/").status_code == 200


def test_queries_do_not_grow_with_learners_or_submissions(
    numpy_module, cohort, instructor, client, start, django_assert_max_num_queries
):
    exercise, others = numpy_module
    api = client_for(instructor)
    client.force_login(instructor)
    counts = []
    for size, prefix in ((6, "small"), (60, "large")):  # the second round adds 60 to the first 6
        _build(exercise, others, enrolled_learners(cohort, size, prefix=prefix), start)
        with django_assert_max_num_queries(17) as page:
            assert client.get("/staff/exercises/normalize-rows/").status_code == 200
        with django_assert_max_num_queries(12) as json:
            assert api.get("/api/v1/exercises/normalize-rows/statistics").json()["learners"] in (6, 66)
        with django_assert_max_num_queries(12) as sheet:
            assert api.get("/api/v1/exercises/normalize-rows/statistics?format=csv").status_code == 200
        counts.append((len(page), len(json), len(sheet)))
    assert counts[0] == counts[1], counts
