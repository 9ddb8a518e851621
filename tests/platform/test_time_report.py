"""The time report: hours per module and per step over the learners who completed them, on hand-built data.

The course built here (``_course``) has two steps. "basics" (published 3-5 h) holds m1 (estimate 2 h,
two exercises, the first a checkpoint), m2 (estimate 1 h) and m3 (no exercises yet); "advanced"
(published 1-2 h) holds m4. ``_learners`` enrols L1-L4 in cohort A and L5-L7 in cohort B:

    hours    m1            m2     m4
    L1       0.5 + 0.5     0.5    7.21
    L2       2             1      8.43
    L3       3             1      9.67
    L4       4             2
    L5       5             3
    L6       6             9, not passed
    L7       10 + 1, only the checkpoint passed: tested out or unfinished, never counted

plus an instructor (staff of A) and a learner in no cohort, both with 50+ hours on m1, who are not
learners of any cohort and must not count either.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import astuple

import pytest

from course.cohorts.models import Cohort
from course.curriculum.models import Exercise, Module, Step
from course.progress.time_report import hours_summary, time_report
from course.web.charts import RangeBox, hours_against_range
from tests.platform.support import ARTIFACTS, client_for, learner_with_hours

# m4's hours and what their quartiles would be: with fewer learners than the minimum, none of these
# may appear anywhere.
M4_SECRETS = ("7.21", "8.43", "9.67", "7.82", "9.05")


def _course() -> None:
    basics = Step.objects.create(
        slug="basics", title="Basics", position=0, published_low_hours=3, published_high_hours=5
    )
    advanced = Step.objects.create(
        slug="advanced", title="Advanced", position=1, published_low_hours=1, published_high_hours=2
    )
    m1 = Module.objects.create(slug="m1", title="Module one", position=0, estimated_hours=2, step=basics)
    m2 = Module.objects.create(slug="m2", title="Module two", position=1, estimated_hours=1, step=basics)
    Module.objects.create(slug="m3", title="Module three", position=2, estimated_hours=0.5, step=basics)
    m4 = Module.objects.create(slug="m4", title="Module four", position=3, estimated_hours=1, step=advanced)
    Exercise.objects.create(module=m1, slug="e1a", title="E1a", position=0, checkpoint=True)
    Exercise.objects.create(module=m1, slug="e1b", title="E1b", position=1)
    Exercise.objects.create(module=m2, slug="e2", title="E2", position=0)
    Exercise.objects.create(module=m4, slug="e4", title="E4", position=0)


def _learners() -> tuple[Cohort, Cohort]:
    a, b = Cohort.objects.create(name="A"), Cohort.objects.create(name="B")
    m1 = ("e1a", "e1b")
    done = (*m1, "e2", "e4")
    learner_with_hours("L1", {"e1a": 0.5, "e1b": 0.5, "e2": 0.5, "e4": 7.21}, passed=done, cohort=a)
    learner_with_hours("L2", {"e1a": 2, "e2": 1, "e4": 8.43}, passed=done, cohort=a)
    learner_with_hours("L3", {"e1b": 3, "e2": 1, "e4": 9.67}, passed=done, cohort=a)
    learner_with_hours("L4", {"e1a": 4, "e2": 2}, passed=(*m1, "e2"), cohort=a)
    learner_with_hours("L5", {"e1a": 5, "e2": 3}, passed=(*m1, "e2"), cohort=b)
    learner_with_hours("L6", {"e1a": 6, "e2": 9}, passed=m1, cohort=b)  # m2 attempted, not passed
    learner_with_hours("L7", {"e1a": 10, "e1b": 1}, passed=("e1a",), cohort=b)
    learner_with_hours("ines", {"e1a": 50, "e2": 50}, passed=(*m1, "e2"), cohort=a, role="instructor")
    learner_with_hours("solo", {"e1a": 60, "e2": 60}, passed=(*m1, "e2"))
    return a, b


@pytest.fixture
def report_data(db, settings):
    settings.TIME_REPORT_PUBLIC = True
    settings.TIME_REPORT_MIN_GROUP = 5
    _course()
    return _learners()


def _by_slug(items):
    return {item.slug: item for item in items}


# --- the numbers ---------------------------------------------------------------------------------


def test_quartiles_are_the_inclusive_method_on_exact_values():
    # Positions (n - 1) * p in the sorted hours, interpolated: 1.25, 2.5 and 3.75 for six values.
    assert astuple(hours_summary([6, 1, 5, 2, 4, 3])) == (6, 2.25, 3.5, 4.75)
    assert astuple(hours_summary([0.5, 1, 1, 2, 3])) == (5, 1, 1, 2)
    assert astuple(hours_summary([1, 2, 3, 4])) == (4, 1.75, 2.5, 3.25)
    assert astuple(hours_summary([4.0])) == (1, 4.0, 4.0, 4.0)  # one learner: all three are their hours
    with pytest.raises(ValueError):
        hours_summary([])


def test_modules_count_only_learners_who_completed_them(report_data, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        report = time_report()
    assert report.min_group == 5 and report.learners == 7  # L1-L7; not ines (staff), not solo (no cohort)
    modules = _by_slug(report.modules)
    m1 = modules["m1"]
    # L1-L6 (1, 2, 3, 4, 5, 6 h); L7 passed only the checkpoint and is left out with its 11 h.
    assert (m1.hours.n, m1.hours.q1, m1.hours.median, m1.hours.q3) == pytest.approx((6, 2.25, 3.5, 4.75))
    assert m1.share_above_estimate == pytest.approx(4 / 6)  # 3, 4, 5, 6 h > 2 h; exactly 2 h is not above
    assert m1.step == "basics" and m1.estimated_hours == 2
    m2 = modules["m2"]  # L1-L5 (0.5, 1, 1, 2, 3 h); L6's 9 h did not pass
    assert (m2.hours.n, m2.hours.q1, m2.hours.median, m2.hours.q3) == (5, 1, 1, 2)
    assert m2.share_above_estimate == pytest.approx(2 / 5)
    assert modules["m3"].hours is None and modules["m3"].exercises == 0
    assert modules["m4"].hours is None and modules["m4"].share_above_estimate is None  # 3 learners < 5


def test_steps_sum_the_modules_of_learners_who_completed_all_of_them(report_data):
    steps = _by_slug(time_report().steps)
    basics = steps["basics"]
    # L1-L5 completed m1 and m2 (m3 has no exercises): 1.5, 3, 4, 6, 8 h. L6 did not finish m2.
    assert (basics.hours.n, basics.hours.q1, basics.hours.median, basics.hours.q3) == (5, 3, 4, 6)
    assert basics.share_above_range == pytest.approx(0.4)  # 6 and 8 h are above 5 h
    assert basics.share_below_range == pytest.approx(0.2)  # 1.5 h is below 3 h; exactly 3 h is not
    assert basics.modules == ("m1", "m2", "m3")
    assert (basics.published_low_hours, basics.published_high_hours) == (3, 5)
    assert steps["advanced"].hours is None and steps["advanced"].share_above_range is None


def test_the_minimum_group_is_a_setting(report_data, settings):
    settings.TIME_REPORT_MIN_GROUP = 3
    advanced = _by_slug(time_report().steps)["advanced"]
    assert (advanced.hours.n, advanced.hours.q1, advanced.hours.median, advanced.hours.q3) == pytest.approx(
        (3, 7.82, 8.43, 9.05)
    )
    assert (advanced.share_above_range, advanced.share_below_range) == (1.0, 0.0)


def test_one_cohort(report_data):
    a, _b = report_data
    report = time_report(cohort_id=a.id, min_group=4)
    assert report.learners == 4
    m1, m2 = _by_slug(report.modules)["m1"], _by_slug(report.modules)["m2"]
    assert (m1.hours.n, m1.hours.q1, m1.hours.median, m1.hours.q3) == pytest.approx((4, 1.75, 2.5, 3.25))
    assert (m2.hours.n, m2.hours.q1, m2.hours.median, m2.hours.q3) == pytest.approx((4, 0.875, 1, 1.25))
    assert _by_slug(time_report(cohort_id=a.id).modules)["m1"].hours is None  # 4 < the default 5


# --- page, CSV and API ---------------------------------------------------------------------------


def _row(html: str, attribute: str, slug: str) -> str:
    match = re.search(rf'<tr {attribute}="{slug}">(.*?)</tr>', html, re.S)
    assert match, f"no row {slug}"
    return match.group(1)


def test_page_shows_figures_and_withholds_small_groups(report_data, client):
    html = client.get("/reports/time").content.decode()
    basics = _row(html, "data-step", "basics")
    assert "<td>5</td><td>3.0 h</td><td>4.0 h</td><td>6.0 h</td><td>40%</td><td>20%</td>" in basics
    assert "3–5 h" in basics
    assert "<td>6</td><td>2.3 h</td><td>3.5 h</td><td>4.8 h</td><td>67%</td>" in _row(html, "data-module", "m1")
    advanced = _row(html, "data-step", "advanced")
    assert "fewer than 5 learners" in advanced and "<td>3</td>" not in advanced
    assert "fewer than 5 learners" in _row(html, "data-module", "m4")
    assert "no exercises yet" in _row(html, "data-module", "m3")
    assert not any(secret in html for secret in M4_SECRETS)
    # What is counted, the published ranges and the way to the CSV.
    assert "not finished are not counted" in html and "Basics 3–5 h; Advanced 1–2 h" in html
    assert 'href="/reports/time?format=csv"' in html and "Download CSV" in html
    # The chart: a box for basics, the note instead of a box for advanced.
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert chart.count('class="published"') == 2 and chart.count('class="quartiles"') == 1
    assert '<g class="range-row" data-slug="advanced">' in chart
    assert "fewer than 5 learners" in chart.split('data-slug="advanced"')[1]


def test_csv_withholds_small_groups(report_data, client):
    response = client.get("/reports/time?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="time-report.csv"'
    text = response.content.decode()
    rows = {(r["kind"], r["slug"]): r for r in csv.DictReader(io.StringIO(text))}
    basics = rows[("step", "basics")]
    assert (basics["learners"], basics["q1_hours"], basics["median_hours"], basics["q3_hours"]) == (
        "5",
        "3.0",
        "4.0",
        "6.0",
    )
    assert (basics["published_low_hours"], basics["published_high_hours"]) == ("3.0", "5.0")
    assert (basics["share_above"], basics["share_below"], basics["note"]) == ("0.4", "0.2", "")
    m1 = rows[("module", "m1")]
    assert (m1["learners"], m1["q1_hours"], m1["median_hours"], m1["q3_hours"]) == ("6", "2.25", "3.5", "4.75")
    assert (m1["estimated_hours"], m1["share_above"], m1["step"]) == ("2.0", "0.667", "basics")
    for key in (("step", "advanced"), ("module", "m4")):
        row = rows[key]
        assert row["note"] == "fewer than 5 learners"
        assert [row[c] for c in ("learners", "q1_hours", "median_hours", "q3_hours", "share_above", "share_below")] == [
            ""
        ] * 6
    assert not any(secret in text for secret in M4_SECRETS)
    api_csv = client_for(None).get("/api/v1/reports/time?format=csv")
    assert api_csv.status_code == 200 and api_csv.content.decode() == text


def test_api_withholds_small_groups(report_data):
    response = client_for(None).get("/api/v1/reports/time")
    assert response.status_code == 200
    body = response.json()
    assert (body["cohort"], body["min_group"], body["learners"]) == (None, 5, 7)
    assert "inclusive" in body["quartile_method"]
    steps = {s["slug"]: s for s in body["steps"]}
    assert steps["basics"] == {
        "slug": "basics",
        "title": "Basics",
        "modules": ["m1", "m2", "m3"],
        "published_low_hours": 3.0,
        "published_high_hours": 5.0,
        "learners": 5,
        "q1_hours": 3.0,
        "median_hours": 4.0,
        "q3_hours": 6.0,
        "share_above_range": 0.4,
        "share_below_range": 0.2,
        "note": "",
    }
    advanced = steps["advanced"]
    assert [advanced[k] for k in ("learners", "q1_hours", "median_hours", "q3_hours")] == [None] * 4
    assert (advanced["share_above_range"], advanced["share_below_range"]) == (None, None)
    assert advanced["note"] == "fewer than 5 learners"
    modules = {m["slug"]: m for m in body["modules"]}
    assert (modules["m2"]["learners"], modules["m2"]["median_hours"], modules["m2"]["share_above_estimate"]) == (
        5,
        1.0,
        0.4,
    )
    assert modules["m4"]["learners"] is None and modules["m4"]["median_hours"] is None
    assert not any(secret in response.content.decode() for secret in M4_SECRETS)


# --- who may see it ------------------------------------------------------------------------------


def test_public_report_is_open_to_anyone(report_data, client):
    assert client.get("/reports/time").status_code == 200
    assert client.get("/reports/time?format=csv").status_code == 200
    assert client_for(None).get("/api/v1/reports/time").status_code == 200


def test_private_report_is_for_course_staff(report_data, client, settings):
    from course.accounts.models import User

    settings.TIME_REPORT_PUBLIC = False
    client.force_login(User.objects.get(username="L1"))
    assert 'id="nav-time-report"' not in client.get("/").content.decode()  # no link to a page it may not open
    client.force_login(User.objects.get(username="ines"))
    assert 'id="nav-time-report"' in client.get("/").content.decode()
    client.logout()
    response = client.get("/reports/time")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/reports/time"
    assert client.get("/reports/time?format=csv").status_code == 302
    assert client_for(None).get("/api/v1/reports/time").status_code == 401
    learner = User.objects.get(username="L1")
    client.force_login(learner)
    assert client.get("/reports/time").status_code == 403
    assert client.get("/reports/time?format=csv").status_code == 403
    refused = client_for(learner).get("/api/v1/reports/time?format=csv")
    assert refused.status_code == 403 and refused.json() == {"detail": "the time report is open to course staff only"}
    instructor = User.objects.get(username="ines")
    client.force_login(instructor)
    assert client.get("/reports/time").status_code == 200
    assert client_for(instructor).get("/api/v1/reports/time").status_code == 200


def test_cohort_filter_is_for_that_cohorts_staff(report_data, client, settings):
    from course.accounts.models import User

    settings.TIME_REPORT_MIN_GROUP = 4
    a, b = report_data
    learner, instructor = User.objects.get(username="L1"), User.objects.get(username="ines")
    root = User.objects.create_superuser(username="root", password="pw")
    for who in (None, learner):
        if who is not None:
            client.force_login(who)
        assert client.get(f"/reports/time?cohort={a.id}").status_code == 404
        assert client.get(f"/reports/time?cohort={a.id}&format=csv").status_code == 404
        assert client_for(who).get(f"/api/v1/reports/time?cohort={a.id}").status_code == 404
    client.force_login(instructor)
    assert client.get(f"/reports/time?cohort={b.id}").status_code == 404  # not ines's cohort
    assert client_for(instructor).get(f"/api/v1/reports/time?cohort={b.id}").status_code == 404
    assert client.get("/reports/time?cohort=abc").status_code == 404
    html = client.get(f"/reports/time?cohort={a.id}").content.decode()
    assert "<td>4</td><td>1.8 h</td><td>2.5 h</td><td>3.3 h</td>" in _row(html, "data-module", "m1")
    assert f'href="/reports/time?cohort={a.id}&amp;format=csv"' in html
    body = client_for(instructor).get(f"/api/v1/reports/time?cohort={a.id}").json()
    assert body["cohort"] == a.id and body["learners"] == 4
    sheet = client.get(f"/reports/time?cohort={a.id}&format=csv")
    assert sheet["Content-Disposition"] == f'attachment; filename="time-report-cohort-{a.id}.csv"'
    client.force_login(root)
    assert client.get(f"/reports/time?cohort={b.id}").status_code == 200
    assert client_for(root).get(f"/api/v1/reports/time?cohort={b.id}").json()["learners"] == 3
    assert client.get("/reports/time?cohort=999999").status_code == 404


# --- cost ----------------------------------------------------------------------------------------


def test_the_report_is_shared_for_a_few_minutes_and_says_when_it_was_computed(report_data, client, settings):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.TIME_REPORT_CACHE_S = 300
    first = client_for(None).get("/api/v1/reports/time").json()
    learner_with_hours("L8", {"e1a": 1, "e1b": 1, "e2": 1}, passed=("e1a", "e1b", "e2"), cohort=report_data[0])
    with CaptureQueriesContext(connection) as queries:
        again = client_for(None).get("/api/v1/reports/time").json()
    assert again == first and len(queries) == 0  # anonymous: not even a session is read
    html = client.get("/reports/time").content.decode()
    assert f"Figures as of {first['computed_at'][:10]}" in html and "recomputed at most every 5 minutes" in html
    cache.clear()  # as when the five minutes are over
    fresh = client_for(None).get("/api/v1/reports/time").json()
    assert fresh["learners"] == first["learners"] + 1 and fresh["computed_at"] > first["computed_at"]
    settings.TIME_REPORT_CACHE_S = 0
    assert client_for(None).get("/api/v1/reports/time").json()["computed_at"] > fresh["computed_at"]


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_learners(curriculum, client, settings, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from course.accounts.models import User
    from course.cohorts.demo_data import build
    from course.cohorts.models import Enrollment

    settings.TIME_REPORT_CACHE_S = 0  # what computing it costs, every time
    instructor = User.objects.create_user(username="staff", password="pw", role=User.Role.INSTRUCTOR)
    counts = []
    for learners, exercises in ((20, 4), (200, 36)):
        cohort = build(learners=learners, exercises=exercises)
        Enrollment.objects.create(cohort=cohort, user=instructor, role=Enrollment.Role.STAFF)
        api = client_for(instructor)
        sizes = []
        for get in (
            lambda: client.get("/reports/time"),
            lambda: client.get("/reports/time?format=csv"),
            lambda: client_for(None).get("/api/v1/reports/time"),
            lambda c=cohort, api=api: api.get(f"/api/v1/reports/time?cohort={c.id}&format=csv"),
        ):
            with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as queries:
                assert get().status_code == 200
            sizes.append(len(queries))
        counts.append(sizes)
    assert counts[0] == counts[1], counts
    print("queries per request (page, page CSV, API, API CSV of one cohort):", counts[0])
    # The shipped steps and their published ranges are cited on the page.
    html = client.get("/reports/time").content.decode()
    assert "ML prerequisites 10–40 h; Transformer implementation 10–20 h; Interpretability tooling 10–20 h" in html
    assert html.count('class="published"') == 3


# --- the chart and the browser -------------------------------------------------------------------


def test_range_chart_is_plain_svg():
    chart = hours_against_range(
        [RangeBox("a", "A <b>", 10, 40, (3.0, 4.0, 6.0)), RangeBox("b", "B", 10, 20, None, "fewer than 5 learners")]
    )
    assert chart.startswith("<svg") and chart.endswith("</svg>") and "A &lt;b&gt;" in chart
    assert chart.count('class="published"') == 2 and chart.count('class="quartiles"') == 1
    assert "median 4.0 h" in chart and "published 10-40 h" in chart
    assert "fewer than 5 learners" in chart.split('data-slug="b"')[1]
    assert "<script" not in chart and "style=" not in chart  # the CSP allows neither inline


@pytest.mark.django_db(transaction=True)
def test_anonymous_visitor_sees_the_public_report(live_server, browser, settings):
    settings.TIME_REPORT_PUBLIC = True
    settings.TIME_REPORT_MIN_GROUP = 5
    _course()
    _learners()
    page = browser.new_page()
    problems: list[str] = []
    # CSP refusals and script errors are console errors; a missing resource is listed by its URL
    # (the browser asks for /favicon.ico by itself: the site has none).
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(f"{live_server.url}/reports/time")
    assert page.locator("h1").inner_text() == "How long each step really takes"
    assert page.locator("#steps tbody tr").count() == 2 and page.locator("#modules tbody tr").count() == 4
    basics = page.locator('#steps tr[data-step="basics"]').inner_text()
    assert "5\t3.0 h\t4.0 h\t6.0 h\t40%\t20%" in basics
    assert "fewer than 5 learners" in page.locator('#steps tr[data-step="advanced"]').inner_text()
    chart = page.locator("#time-report-chart svg")
    assert chart.is_visible() and chart.locator("rect.quartiles").count() == 1
    assert chart.locator("line.median").count() == 1 and chart.locator("rect.published").count() == 2
    assert page.locator("#download-csv").get_attribute("href") == "/reports/time?format=csv"
    assert "not counted" in page.locator("#what-counts").inner_text()
    assert problems == []  # nothing refused by the CSP, no script errors
    page.screenshot(path=str(ARTIFACTS / "time-report.png"), full_page=True)
    page.close()
