"""``coursegrade.check()``: the exercise's visible tests, run here on the notebook's live variables.

The tests come from the exercise's starter pack. They run in this process (no copy of the notebook
is executed), so they see exactly what the cells you ran defined. A test that never returns holds
the cell: interrupt the kernel to stop it. The grader runs your notebook from the top, in a
sandbox, with the hidden tests too: ``submit()`` is the verdict that counts.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursegrade import notebook, show
from coursegrade.api import CourseError, current

PYTEST_MISSING = (
    "check() runs the visible tests with pytest, which this Python does not have: "
    "run `%pip install pytest` in a cell, then check() again"
)


@dataclass
class TestOutcome:
    name: str
    points: float
    status: str  # "passed", "failed", "error" or "skipped"
    message: str = ""  # the exception line, e.g. "ValueError: ..."
    details: str = ""  # pytest's short traceback

    @property
    def earned(self) -> float:
        return self.points if self.status == "passed" else 0.0


@dataclass
class CheckSummary:
    exercise: str
    tests: list[TestOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # test files that could not be loaded
    interrupted: bool = False

    @property
    def score(self) -> float:
        return sum(t.earned for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def passed(self) -> bool:
        return bool(self.tests) and not self.errors and all(t.status == "passed" for t in self.tests)

    def __str__(self) -> str:
        done = sum(t.status == "passed" for t in self.tests)
        return (
            f"visible tests of {self.exercise}: {done}/{len(self.tests)} passed, "
            f"{self.score:g}/{self.max_score:g} points"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"<CheckSummary: {self}>")


def check() -> CheckSummary:
    """Run the exercise's visible tests on this notebook's variables; show and return the results."""
    session = current()
    try:
        import pytest  # noqa: F401  (only to say clearly that it is missing)
    except ImportError:
        raise CourseError(PYTEST_MISSING) from None
    from coursegrade import plugin

    slug = session.exercise
    pack = session.api.request("GET", f"/api/v1/exercises/{urllib.parse.quote(slug)}/starter")
    with tempfile.TemporaryDirectory(prefix="coursegrade-check-") as tmp:
        try:
            with zipfile.ZipFile(io.BytesIO(pack)) as archive:
                archive.extractall(tmp)
        except zipfile.BadZipFile:
            raise CourseError(f"{session.api.site} sent a starter pack that is not a zip; try again") from None
        root = Path(tmp) / slug
        run = plugin.Run(namespace=notebook.namespace(), helpers=root / "tests" / "kernel_helpers")
        code = _run_pytest(root, run, plugin)
    summary = CheckSummary(
        exercise=slug,
        tests=[
            TestOutcome(
                name=run.names.get(nodeid, nodeid),
                points=run.points.get(nodeid, 1.0),
                status=outcome["status"],
                message=outcome["message"],
                details=outcome["details"],
            )
            for nodeid, outcome in run.outcomes.items()
        ],
        errors=run.collect_errors,
        interrupted=int(code) == 2,
    )
    _show(summary)
    return summary


def _run_pytest(root: Path, run: Any, plugin: Any) -> int:
    import pytest

    tests = root / "tests"
    ini = root / "pytest.ini"
    ini.write_text("[pytest]\n")  # no configuration of any folder above applies
    args = [
        str(tests),
        "-c", str(ini),
        "--rootdir", str(tests),
        "--assert=plain",  # as the grader runs them: the messages are the tests' own
        "--capture=sys",  # the kernel forwards file descriptors itself
        "--import-mode=importlib",
        "-p", "no:cacheprovider",
        "-p", "no:faulthandler",  # a kernel's stderr may have no file descriptor
        "-q",
        "--tb=short",
        "-o", "python_files=test_*.py",
    ]  # fmt: skip
    plugin.start(run)
    # Tests import their helpers (`from kernel_helpers import x`) and the pack's modules; plugins
    # installed in the learner's environment are not theirs to load.
    saved_path, saved_autoload = list(sys.path), os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    sys.path[:0] = [str(tests), str(root)]
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    loaded = set(sys.modules)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return int(pytest.main(args, plugins=[plugin]))
    finally:
        sys.path[:] = saved_path
        # The next check() imports the tests afresh (pytest would reuse a module of the same name).
        folders = (str(root), str(root.resolve()))
        for name in set(sys.modules) - loaded:
            if str(getattr(sys.modules[name], "__file__", None) or "").startswith(folders):
                del sys.modules[name]
        if saved_autoload is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved_autoload


def _show(summary: CheckSummary) -> None:
    headers = ["test", "points", "result", "message"]
    rows = [
        [t.name, f"{t.earned:g}/{t.points:g}", "pass" if t.status == "passed" else t.status, t.message]
        for t in summary.tests
    ]
    rows += [["(could not load)", "", "error", e] for e in summary.errors]
    caption = str(summary) + (" (interrupted)" if summary.interrupted else "")
    if summary.passed:
        caption += ". The hidden tests run when you submit()."
    details = [t.details for t in summary.tests]
    show.show(
        show.table(headers, rows, caption=caption, details=details), show.text_table(headers, rows, caption=caption)
    )
