"""Journeys of issue 15 in a real browser against a live server and a real worker: testing out of a
module with its checkpoint, and a hint then the solution, which the staff pages show."""

from __future__ import annotations

import pytest

from tests.platform.support import ARTIFACTS, load_course, login_page
from tests.support import EXERCISES

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
PARSE_CONFIG = EXERCISES / "python" / "parse-config" / "solution.ipynb"
NORMALIZE_ROWS = EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb"


@pytest.fixture
def course(transactional_db, settings, tmp_path):
    # Python has two exercises, of which parse-config is the checkpoint; NumPy requires Python.
    return load_course(
        tmp_path / "exercises", settings, ["python/parse-config", "python/word-counts", "numpy/normalize-rows"]
    )


def _submit_and_wait(page, notebook) -> str:
    page.set_input_files("input[name=notebook]", str(notebook))
    page.click("#submit-form button")
    page.wait_for_selector("#score", timeout=120_000)
    return page.inner_text("#score")


def test_a_learner_tests_out_of_python_and_starts_numpy(live_server, browser, course, learner, worker):
    base = live_server.url
    page = browser.new_page()
    login_page(page, base, "alice")
    assert page.inner_text("tr[data-module=numpy] .state").startswith("locked")
    why = page.inner_text("[data-why=numpy]")
    assert "Locked: needs Python" in why and "test out" in why
    assert page.locator("tr[data-module=numpy] a[href*=normalize-rows]").count() == 0, "no NumPy exercise is open"
    page.screenshot(path=str(ARTIFACTS / "skip-1-locked.png"), full_page=True)

    page.click("[data-why=numpy] a")  # the checkpoint that skips Python
    assert "/exercises/parse-config/" in page.url
    assert "A checkpoint of Python" in page.inner_text(".checkpoint-note")
    score = _submit_and_wait(page, PARSE_CONFIG)
    assert score.split("/")[0] == score.split("/")[1], score
    page.wait_for_selector("#module-state:text-is('tested out')")

    page.goto(f"{base}/")
    assert page.inner_text("tr[data-module=python] .state") == "tested out"
    assert page.inner_text("tr[data-module=numpy] .state") == "available"
    page.screenshot(path=str(ARTIFACTS / "skip-2-tested-out.png"), full_page=True)
    page.click("text=Normalize the rows of a matrix")
    assert page.locator("#submit-form").count() == 1 and page.locator(".locked-note").count() == 0
    page.close()


def test_a_hint_then_the_solution_and_the_staff_see_it(
    live_server, browser, course, learner, instructor, cohort, worker, tmp_path
):
    base = live_server.url
    staff = browser.new_page()
    login_page(staff, base, "ines")
    staff.goto(f"{base}/cohorts/{cohort.id}/")
    staff.select_option("select[name=solution_policy]", "after_attempts")
    staff.fill("input[name=solution_after_attempts]", "1")
    staff.click("#solution-form button")
    staff.wait_for_selector("text=Cohort settings saved.")
    staff.click("#prerequisites-form button")  # advice: alice may start NumPy without Python
    staff.wait_for_selector("#prerequisites-mode:text-is('advice')")

    page = browser.new_page()
    login_page(page, base, "alice")
    assert "Advised first:" in page.inner_text("[data-why=numpy]")
    page.click("text=Normalize the rows of a matrix")
    page.click("#reveal-hint")
    page.wait_for_selector("[data-hint='1']")
    assert "np.linalg.norm" in page.inner_text("[data-hint='1']")
    assert "available after 1 graded attempt(s) or a pass (you made 0)" in page.inner_text("#solution-rule")
    template = page.context.request.get(f"{base}/api/v1/exercises/normalize-rows/notebook").body()
    (tmp_path / "template.ipynb").write_bytes(template)
    assert _submit_and_wait(page, tmp_path / "template.ipynb") != "8/8"
    page.reload()
    page.click("#reveal-solution")
    page.wait_for_selector(".solution.card")
    assert "np.zeros_like(x)" in page.inner_text(".solution.card")
    assert _submit_and_wait(page, NORMALIZE_ROWS) == "8/8"
    page.screenshot(path=str(ARTIFACTS / "help-1-learner.png"), full_page=True)
    page.close()

    staff.goto(f"{base}/cohorts/{cohort.id}/")
    row = staff.inner_text("#reveals tbody tr")
    assert "alice" in row and "normalize-rows" in row and "after seeing the solution" in row
    staff.goto(f"{base}/staff/exercises/normalize-rows/")
    assert "1 saw the solution, of whom 1 passed after seeing it" in staff.inner_text("#help-seen")
    staff.screenshot(path=str(ARTIFACTS / "help-2-staff.png"), full_page=True)
    staff.close()
