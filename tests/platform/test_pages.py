"""The pages in a real browser: Playwright driving Debian's Chromium against a live server and worker."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from course.web.charts import Node, module_graph, time_vs_estimate
from tests.platform.support import ARTIFACTS, login_page
from tests.support import EXERCISES

SOLUTION = EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb"


def test_charts_are_plain_svg():
    graph = module_graph([Node("a", "A", "complete", [], "x"), Node("b", "B <b>", "locked", ["a"], "y")])
    assert graph.startswith("<svg") and "marker-end" in graph and "B &lt;b&gt;" in graph
    chart = time_vs_estimate([("a", [1.0, 3.0], 2.0, 2.0), ("b", [], 0.0, 1.0)])
    assert chart.count("<circle") == 2 and chart.count('stroke="#d62828"') == 2
    assert "median 2.00 h" in chart


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_learner_and_admin_journeys(live_server, browser, curriculum, learner, instructor, cohort, worker, tmp_path):
    base = live_server.url
    page = browser.new_page()
    login_page(page, base, "alice")
    assert page.locator("tr[data-module=numpy] .state").inner_text() == "available"
    assert page.locator("svg.graph g[data-module=numpy]").get_attribute("data-state") == "available"
    page.screenshot(path=str(ARTIFACTS / "1-dashboard.png"), full_page=True)

    page.click("text=Normalize the rows of a matrix")
    assert "unit Euclidean" in page.inner_text("article.statement")
    wrong = json.loads(SOLUTION.read_text())
    for cell in wrong["cells"]:
        cell["source"] = "".join(cell["source"]).replace("where=norms != 0", "where=norms == norms")
    # A cell that fails inside NumPy, called through the learner's function: a 1-D input.
    wrong["cells"].append({"cell_type": "code", "id": "extra", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "import time\ntime.sleep(1.5)\nnormalize_rows(np.arange(3.0))"})  # fmt: skip
    (tmp_path / "wrong.ipynb").write_text(json.dumps(wrong))
    page.set_input_files("input[name=notebook]", str(tmp_path / "wrong.ipynb"))
    page.click("#submit-form button")
    page.wait_for_selector("#stage.running", timeout=60_000)  # the notebook is running, live
    page.wait_for_selector("#score", timeout=90_000)
    assert page.locator("tr[data-test=test_zero_row_stays_zero] td.failed").count() == 1
    score = page.inner_text("#score")
    assert score != "8/8"
    traceback = page.inner_text(".cell-error[data-cell='4'] pre.traceback")
    assert "Cell 4, line 3" in traceback and "Cell 2, line 4, in normalize_rows" in traceback
    assert "inside libraries not shown" in traceback and "AxisError" in traceback
    # The rest of the page follows without a reload: the attempt's row and the summary.
    page.wait_for_selector("#attempts:text-is('1')")
    assert page.inner_text("tr[data-attempt] .attempt-status") == "graded"
    page.screenshot(path=str(ARTIFACTS / "2-wrong-notebook.png"), full_page=True)

    page.wait_for_timeout(100)
    page.set_input_files("input[name=notebook]", str(SOLUTION))
    page.click("#submit-form button")
    page.wait_for_selector("#score", timeout=90_000)
    assert page.inner_text("#score") == "8/8"
    assert page.locator("td.failed").count() == 0
    assert page.locator("table.history tbody tr").count() == 2
    page.wait_for_selector("#module-state:text-is('complete')")
    assert page.inner_text("#best") == "8/8" and page.inner_text("#attempts") == "2"
    page.screenshot(path=str(ARTIFACTS / "3-right-notebook.png"), full_page=True)

    page.goto(f"{base}/")
    assert page.locator("tr[data-module=numpy] .state").inner_text() == "complete"
    page.close()

    staff = browser.new_page(accept_downloads=True)
    login_page(staff, base, "ines")
    staff.click(f"text={cohort.name}")
    assert staff.locator("#matrix tr[data-learner=alice]").count() == 1
    assert staff.locator("#matrix tr[data-learner=alice] td.complete").count() >= 4
    assert staff.locator("#time-chart svg").count() == 1
    staff.screenshot(path=str(ARTIFACTS / "4-cohort.png"), full_page=True)
    with staff.expect_download() as info:
        staff.click("#csv-matrix")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    numpy_row = next(r for r in rows if r["learner"] == "alice" and r["module"] == "numpy")
    assert numpy_row["status"] == "complete" and float(numpy_row["score"]) == 8.0
    with staff.expect_download() as info:
        staff.click("#export-zip")  # everything on the page: one CSV per section
    with zipfile.ZipFile(info.value.path()) as archive:
        sheets = {
            name.removeprefix(f"cohort-{cohort.id}-").removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(archive.read(name).decode()))
            )
            for name in archive.namelist()
        }
    assert set(sheets) == {"matrix", "funnel", "hours", "stuck", "reveals"}
    assert sheets["matrix"] == rows
    funnel = next(r for r in sheets["funnel"] if r["module"] == "numpy")
    assert (funnel["learners"], funnel["complete"]) == ("1", "1")
    hours = next(r for r in sheets["hours"] if r["module"] == "numpy")
    assert int(hours["learners_with_time"]) == 1 and float(hours["median_hours"]) > 0
    assert sheets["stuck"] == []  # alice was active today and passed


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_live_status_shows_running_then_judging(live_server, browser, curriculum, learner, worker, tmp_path):
    from course.curriculum.services import exercise_publish

    # A version whose tests take a while, so that the judging stage lasts long enough to be seen.
    slow = tmp_path / "slow" / "numpy" / "normalize-rows"
    shutil.copytree(SOLUTION.parent, slow)
    (slow / "tests" / "test_slow.py").write_text(
        "import time\n\nimport pytest\n\n\n@pytest.mark.points(1)\ndef test_slowly(student):\n"
        "    time.sleep(3)\n    assert student.normalize_rows is not None\n"
    )
    exercise_publish(path=slow)
    nb = json.loads(SOLUTION.read_text())
    nb["cells"].append({"cell_type": "code", "id": "extra", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "import time\ntime.sleep(2)"})  # fmt: skip
    (tmp_path / "slow.ipynb").write_text(json.dumps(nb))

    page = browser.new_page()
    login_page(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/exercises/normalize-rows/")
    page.set_input_files("input[name=notebook]", str(tmp_path / "slow.ipynb"))
    page.click("#submit-form button")
    page.wait_for_selector("#stage.running", timeout=60_000)
    assert "your notebook is running" in page.inner_text("#status")
    page.wait_for_selector("#stage.judging", timeout=30_000)
    assert "the tests are running" in page.inner_text("#status")
    page.screenshot(path=str(ARTIFACTS / "5-judging.png"), full_page=True)
    page.wait_for_selector("#score", timeout=60_000)
    assert page.inner_text("#score") == "9/9" and page.inner_text("#stage") == "graded"
    page.wait_for_selector("#attempts:text-is('1')")
    page.close()


@pytest.mark.django_db
def test_pages_enforce_permissions(client, curriculum, learner, other_learner, cohort):
    assert client.get("/").status_code == 302  # to the login page
    client.force_login(other_learner)
    assert client.get(f"/cohorts/{cohort.id}/").status_code == 404
    assert client.get("/exercises/no-such-exercise/").status_code == 404
    locked = client.post("/exercises/causal-attention-pattern/submit", {"notebook": io.BytesIO(b"{}")}, follow=True)
    assert "locked" in locked.content.decode()


@pytest.mark.django_db
def test_every_page_has_a_plain_title_and_its_sections_once(client, curriculum, learner, instructor, cohort):
    import re

    client.force_login(instructor)
    pages = [
        "/",
        "/exercises/normalize-rows/",
        f"/cohorts/{cohort.id}/",
        "/staff/exercises/normalize-rows/",
        "/reports/time",
    ]
    for url in pages:
        page = client.get(url).content.decode()
        head = page.split("</head>", 1)[0]  # SVG charts carry <title>s of their own
        titles = re.findall(r"<title>(.*?)</title>", head, re.S)
        assert len(titles) == 1 and "<" not in titles[0] and len(titles[0]) < 80, (url, titles)
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), (url, sorted({i for i in ids if ids.count(i) > 1}))


@pytest.mark.django_db
def test_instructor_statistics_page(client, curriculum, learner, other_learner, instructor, cohort):
    from course.cohorts.models import Enrollment
    from course.submissions.models import Submission
    from course.submissions.models import TestResult as ResultRow
    from tests.platform.support import client_for, upload

    Enrollment.objects.create(cohort=cohort, user=other_learner)
    data = SOLUTION.read_bytes()
    for who, scores in ((learner, [3.0, 8.0]), (other_learner, [2.0, 2.0, 8.0])):
        for score in scores:
            sub_id = upload(client_for(who), "normalize-rows", data).json()["id"]
            Submission.objects.filter(id=sub_id).update(status="graded", verdict="graded", score=score)
            if score < 8:
                ResultRow.objects.create(
                    submission_id=sub_id,
                    name="test_zero_row_stays_zero",
                    status="failed",
                    score=0,
                    max_score=2,
                    visibility="hidden",
                )
    from course.progress.models import ExerciseProgress

    ExerciseProgress.objects.create(learner=learner, exercise_id=Submission.objects.first().exercise_id, state="passed")
    client.force_login(learner)
    assert client.get("/staff/exercises/normalize-rows/").status_code == 404
    client.force_login(instructor)
    page = client.get("/staff/exercises/normalize-rows/").content.decode()
    assert "<th>Attempts</th><td>5</td>" in page
    assert "Median attempts to pass</th><td>2.5</td>" in page  # 2 for alice, 3 for bob
    assert "test_zero_row_stays_zero: 3 failure(s)" in page
    assert "50% (1/2)" in page
    response = client.post("/staff/exercises/normalize-rows/regrade")
    assert response.status_code == 302 and "/admin/submissions/regrade/" in response["Location"]


@pytest.mark.django_db
def test_cohort_dashboard_queries_do_not_grow_with_the_cohort(client, curriculum, instructor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from course.cohorts.demo_data import build
    from course.cohorts.models import Enrollment

    counts = []
    for learners, exercises in ((20, 4), (200, 36)):  # with the shipped ones, about 40 exercises in 10 modules
        cohort = build(learners=learners, exercises=exercises)
        Enrollment.objects.create(cohort=cohort, user=instructor, role=Enrollment.Role.STAFF)
        client.force_login(instructor)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/cohorts/{cohort.id}/")
        assert response.status_code == 200 and response.content.count(b"data-learner=") == learners
        with CaptureQueriesContext(connection) as export_queries:
            export = client.get(f"/api/v1/cohorts/{cohort.id}/dashboard?format=zip")
        assert export.status_code == 200
        counts.append((len(queries), len(export_queries)))
    assert counts[0] == counts[1], counts


def test_statements_render_maths_as_mathml_but_not_inside_code():
    from course.web.statement import render

    html = render(
        "Scale by $1/\\sqrt{d}$:\n\n$$\\mathrm{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}}$$\n\n"
        "`cost = $5` and\n\n```\nprice = $x$\n```\n"
    )
    assert html.count("<math") == 2 and 'display="block"' in html
    assert "cost = $5" in html and "price = $x$" in html
