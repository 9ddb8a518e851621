"""Entry point of the judge container: run the bundle's tests against the learner's kernel.

Trusted. Started before its grading is known (a warm sandbox, claim.py): it imports pytest and the
environment's heavy modules, then waits for its job. Reads what every grading shares from
GRADER_JUDGE (JSON) and the grading's settings (the nonce among them) from the job file, which
arrives after the tests in /bundle (read-only to it),
and talks to the kernel only through the socket in /ipc. Its original stdout carries the warm
mark, then only lines that start with a per-run nonce: ``<nonce>!judging`` once the notebook has run and the tests
start on it (the host follows this for the learner's live status). The report goes to a file in a
folder of the judge's own volume (``<nonce>{report JSON}``), which the host copies out after the
judge exits. Everything pytest prints goes to stderr.

Learner-facing output for hidden tests follows feedback.py: the author's hint text read from the
test's source, and the type and place of the learner's own exceptions, never a value; assertions
are not rewritten (``--assert=plain``). Visible tests keep their full output.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import claim, wire
from .feedback import HIDDEN_CHECK, HintSource, NotebookSource, judge_error, learner_error
from .student import (
    HELPERS_DIR,
    KernelClient,
    KernelHelpers,
    KernelUnavailable,
    NotData,
    NotDefined,
    ReplyRefused,
    Student,
    StudentError,
    StudentTimeout,
)

BUNDLE = Path("/bundle")
POLL_S = 0.005  # the learner waits for half of it on average
MAX_STATUS_BYTES = 4 << 20


class TestTimeout(Exception):
    pass


class NotebookUnavailable(Exception):
    pass


class GradingPlugin:
    """Supplies the ``student`` and ``device`` fixtures, enforces time limits, records results."""

    def __init__(self, config: dict[str, Any], test_root: Path, announce: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.announce = announce
        self.test_root = test_root
        self.started = time.monotonic()
        self.results: list[dict[str, Any]] = []
        self.collect_errors: list[str] = []
        self.kernel_report: dict[str, Any] = {}
        self.kernel_ready_at: float | None = None
        self._client: KernelClient | None = None
        self._unavailable: str | None = None
        self._outcomes: dict[str, dict[str, Any]] = {}
        self._deadline: float | None = None
        self._limit: float | None = None
        self._names: dict[str, str] = {}
        self.sources = HintSource()
        notebook = config.get("notebook")
        self.notebook = NotebookSource.read(Path(notebook) if notebook else None)

    # --- fixtures ---------------------------------------------------------------------------

    def _kernel(self) -> KernelClient:
        if self._client is not None:
            return self._client
        if self._unavailable is not None:
            raise NotebookUnavailable(self._unavailable)
        ipc = Path(self.config["ipc"])
        ready = Path(self.config.get("status", ipc)) / "ready"
        wait_until = self.started + float(self.config["kernel_wait_s"])
        signal.setitimer(signal.ITIMER_REAL, 0)  # waiting for the notebook is not the fixture's time
        while not ready.exists():
            if time.monotonic() > wait_until:
                self._unavailable = "your notebook did not finish running within the time limit"
                raise NotebookUnavailable(self._unavailable)
            time.sleep(POLL_S)
        self.kernel_ready_at = time.time()
        if self.announce is not None:
            self.announce("judging")
        self.kernel_report = _read_status(ready)
        status = self.kernel_report.get("status")
        if self.kernel_report.get("serving") is not True:
            self._unavailable = {
                "stuck": "your notebook did not finish running within the time limit",
                "timeout": "your notebook did not finish running within the time limit",
                "crashed": "your notebook's kernel died before the tests could run (it may have run out of memory)",
            }.get(str(status), "your notebook's kernel could not be reached")
            raise NotebookUnavailable(self._unavailable)
        self._client = KernelClient(str(ipc / "kernel.sock"), int(self.config["max_message_bytes"]))
        self._start_clock()
        return self._client

    # --- hooks ------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points this test is worth (default 1)")
        config.addinivalue_line("markers", "visible: the learner sees this test's code and full output")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected_at = time.time()
        _pay_first_use_costs()  # while the notebook is still running (a warm judge has already)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-3000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.sources = HintSource.read(sorted(self.test_root.rglob("*.py")))
        self._names = _display_names(items)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Any:
        # Each test starts with a clean record of what the platform failed to do for it.
        if self._client is not None:
            self._client.platform_failure = None
        # A fixture gets what a test gets; the first one's clock starts once the notebook has run.
        limit = self._test_limit()
        with self._bounded(f"a fixture did not finish within {limit:.0f} s", limit):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        limit = self._test_limit()
        with self._bounded(f"the test did not finish within {limit:.0f} s", limit):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Any:
        with self._bounded("a fixture's teardown did not finish", self._test_limit()):
            yield

    def _test_limit(self) -> float:
        """One test's time (or one fixture's), within what is left of the judge's budget."""
        budget_left = self.started + float(self.config["judge_budget_s"]) - time.monotonic()
        return max(0.1, min(float(self.config["test_timeout_s"]), budget_left))

    @contextlib.contextmanager
    def _bounded(self, message: str, limit: float) -> Any:
        """A deadline for calls into the kernel (the socket's) and an alarm for everything else."""

        def on_alarm(signum: int, frame: Any) -> None:
            raise TestTimeout(message)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        self._limit = limit
        self._start_clock()
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self._deadline = self._limit = None
            if self._client is not None:
                self._client.deadline = None

    def _start_clock(self) -> None:
        if self._limit is None:
            return
        self._deadline = time.monotonic() + self._limit
        if self._client is not None:
            self._client.deadline = self._deadline
        # The socket deadline fires first for slow learner code; the alarm catches the rest.
        signal.setitimer(signal.ITIMER_REAL, self._limit + 1.0)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        outcome = yield
        report = outcome.get_result()
        entry = self._outcomes.setdefault(item.nodeid, {"item": item})
        if report.failed and "failure" not in entry:
            entry["failure"] = (call.when, call.excinfo.value if call.excinfo else None, report)
        if call.when == "call" and report.passed:
            entry["passed"] = True
        if report.skipped and "failure" not in entry:
            entry["skipped"] = True
        entry.setdefault("durations", {})[call.when] = call.duration
        if call.when == "teardown":
            self._finish(item)

    # --- results ----------------------------------------------------------------------------

    def _finish(self, item: pytest.Item) -> None:
        entry = self._outcomes.pop(item.nodeid)
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker and marker.args else 1.0
        visible = item.get_closest_marker("visible") is not None
        failure = entry.get("failure")
        platform_failure = self._client.platform_failure if self._client is not None else None
        if self._client is not None:
            self._client.platform_failure = None
        if failure is None and entry.get("passed") and platform_failure is not None:
            # The test caught what the platform raised and went on: it checked nothing reliable.
            status = "error"
            output = f"the grader could not check this: {platform_failure}"
        elif failure is None and entry.get("passed"):
            status, output = "passed", ""
        elif failure is None:
            status, output = "skipped", "skipped"
        else:
            when, exc, report = failure
            status = _status_for(when, exc)
            output = self._message(exc, report, visible)
        self.results.append(
            {
                "name": self._names.get(item.nodeid, item.nodeid),
                "max_score": points,
                "points_marked": marker is not None,
                "status": status,
                "visibility": "visible" if visible else "hidden",
                "output": output[: int(self.config["max_output_chars"])],
                # The call alone: the first test's setup also waits for the notebook to finish.
                "duration": round(entry.get("durations", {}).get("call", 0.0), 4),
            }
        )

    def _message(self, exc: BaseException | None, report: pytest.TestReport, visible: bool) -> str:
        """Visible tests: everything. Hidden tests: what feedback.py allows (never a value)."""
        platform = (StudentTimeout, TestTimeout, KernelUnavailable, NotebookUnavailable, NotData, ReplyRefused)
        if isinstance(exc, platform):
            return str(exc)  # the platform's own words: names of what was called, no values
        if isinstance(exc, StudentError):
            if visible:
                return f"{exc}\n{exc.learner_traceback}".rstrip()
            return learner_error(exc.what, exc.etype, exc.learner_traceback, self.notebook)
        if visible:
            return report.longreprtext[-int(self.config["max_output_chars"]) :]
        if isinstance(exc, NotDefined):
            return str(exc)
        if exc is None:
            return HIDDEN_CHECK
        return judge_error(exc, self.sources)

    def report(self) -> dict[str, Any]:
        kernel = {
            k: self.kernel_report.get(k)
            for k in ("status", "serving", "started", "preload_started", "kernel_up", "job_at", "notebook_done")
        }
        kernel["cells"] = _bounded_cells(self.kernel_report.get("cells"))
        return {
            "tests": _bounded_outputs(self.results),
            "collect_errors": [e[:3000] for e in self.collect_errors[:20]],
            "kernel": kernel,
            "kernel_lost": bool(self._client and self._client.lost),
            "kernel_ready_at": self.kernel_ready_at,
            "tests_done_at": time.time(),
            "collected_at": getattr(self, "collected_at", None),
        }


# What of the report the learner's code can fill, in all (each piece is capped on its own too):
# the report stays small whatever the notebook prints or raises.
MAX_TEST_OUTPUTS_CHARS = 200_000
MAX_CELL_TEXT_CHARS = 60_000
MAX_CELLS = 5000


def _bounded_outputs(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    left = MAX_TEST_OUTPUTS_CHARS
    bounded = []
    for result in results:
        output = result["output"]
        if len(output) > left:
            output = output[:left] + f"\n[cut: the tests' messages passed {MAX_TEST_OUTPUTS_CHARS} characters in all]"
        left = max(0, left - len(output))
        bounded.append(dict(result, output=output))
    return bounded


def _bounded_cells(cells: Any) -> list[dict[str, Any]]:
    """The cell report with its learner-written text capped per cell and in all, saying so where cut."""
    if not isinstance(cells, list):
        return []
    left = MAX_CELL_TEXT_CHARS
    bounded = []
    for cell in cells[:MAX_CELLS]:
        if not isinstance(cell, dict):
            continue
        cell = {k: cell[k] for k in ("index", "status", "ename", "evalue", "traceback") if k in cell}
        for key, cap in (("ename", 200), ("evalue", 4000), ("traceback", 6000)):
            text = cell.get(key)
            if not isinstance(text, str):
                cell.pop(key, None)
                continue
            text = text[: min(cap, left)]
            if len(text) < len(cell[key]) and key != "ename":
                text += f"\n[cut: your notebook's error messages passed {MAX_CELL_TEXT_CHARS} characters in all]"
            left = max(0, left - len(text))
            cell[key] = text
        bounded.append(cell)
    return bounded


# The fixtures are module functions (pytest 9 deprecates session fixtures on plugin instances);
# they reach the one plugin of this process through `_active`.
_active: GradingPlugin | None = None


@pytest.fixture(scope="session")
def student() -> Student:
    """The learner's notebook namespace: ``student.name`` is ``name`` there."""
    assert _active is not None
    return Student(_active._kernel())


@pytest.fixture(scope="session")
def kernel_helpers() -> KernelHelpers:
    """The bundle's ``tests/kernel_helpers/<name>.py`` modules, run inside the learner's kernel."""
    assert _active is not None
    return KernelHelpers(_active._kernel(), _active.test_root / HELPERS_DIR)


@pytest.fixture(scope="session")
def device() -> str:
    """Where the learner's code runs: "cuda" when its kernel has a GPU, else "cpu"."""
    assert _active is not None
    return str(_active.config.get("device", "cpu"))


def _read_status(path: Path) -> dict[str, Any]:
    """The kernel driver's report: a regular file, read without blocking and within a size cap.

    Only the runner user can write the status folder; reading it as if anyone could costs nothing.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return {"status": "crashed"}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {"status": "crashed"}
        with os.fdopen(fd, "rb", closefd=False) as f:
            report = json.loads(f.read(MAX_STATUS_BYTES))
    except (OSError, ValueError, RecursionError):
        return {"status": "crashed"}
    finally:
        os.close(fd)
    return report if isinstance(report, dict) else {"status": "crashed"}


def _display_names(items: list[pytest.Item]) -> dict[str, str]:
    """Each test's name in the Result: unique, and for hidden tests without parametrize values.

    A hidden parametrized test is ``test_x[1]``, ``test_x[2]``... (its ids show the inputs); a
    name two files share is qualified by its file.
    """
    names: dict[str, str] = {}
    counters: dict[tuple[str, str], int] = {}
    for item in items:
        name = item.nodeid.split("::", 1)[-1]
        if item.get_closest_marker("visible") is None and "[" in name:
            stem = name[: name.index("[")]
            key = (str(item.path), stem)
            counters[key] = counters.get(key, 0) + 1
            name = f"{stem}[{counters[key]}]"
        names[item.nodeid] = name
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name] = taken.get(name, 0) + 1
    return {
        nodeid: f"{nodeid.split('::', 1)[0].rsplit('/', 1)[-1]}::{name}" if taken[name] > 1 else name
        for nodeid, name in names.items()
    }


def _status_for(when: str, exc: BaseException | None) -> str:
    if isinstance(exc, (StudentTimeout, TestTimeout)):
        return "timeout"
    if when != "call" or isinstance(exc, (NotebookUnavailable, KernelUnavailable)):
        return "error"
    return "failed"


def _preload(modules: list[str]) -> None:
    """Import the environment's heavy modules before the budgets start (the host allows for it)."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # a test that needs it fails to load, and says why
            pass


def run_tests(config: dict[str, Any], announce: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the tests in ``config["tests"]`` against the kernel serving at ``config["ipc"]``.

    ``announce(stage)`` is told when the tests start on the learner's finished notebook.
    """
    global _active
    _preload(config.get("preload") or [])
    wire.set_codecs([wire.Codec.parse(c) for c in config.get("codecs") or []])
    test_root = Path(config.get("tests", BUNDLE / "tests"))
    # Tests import their kernel helpers (`from kernel_helpers import training`) to compute references.
    sys.path.insert(0, str(test_root))
    plugin = GradingPlugin(config, test_root, announce)
    _active = plugin
    code = pytest.main(_pytest_args(test_root), plugins=[plugin, sys.modules[__name__]])
    report = plugin.report()
    report["exit_code"] = int(code)
    return report


def _pytest_args(test_root: Path) -> list[str]:
    return [
        str(test_root),
        "--assert=plain",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        "-q",
        "--tb=short",
        "--rootdir", str(test_root),
        "-o", "python_files=test_*.py",
        "--import-mode=importlib",
    ]  # fmt: skip


def _pay_first_use_costs() -> None:
    """Tensors come back as safetensors, and the first assert_close imports torch.distributed (about 0.4 s)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        import safetensors.torch  # noqa: F401

        torch.testing.assert_close(torch.zeros(1), torch.zeros(1))


def _warm_pytest() -> None:
    """Run pytest once on no tests: its plugins and their modules load now, not on the grading's time."""
    import tempfile

    with tempfile.TemporaryDirectory() as empty, contextlib.redirect_stdout(sys.stderr):
        pytest.main(_pytest_args(Path(empty)))


def main() -> None:
    started = json.loads(os.environ["GRADER_JUDGE"])
    _preload(started.get("preload") or [])
    _warm_pytest()
    _pay_first_use_costs()
    # What is loaded by now lives as long as the process: out of the collector's sight, pytest's
    # gc.collect() at session end and any collection during the tests skip torch's objects (about 70 ms each).
    # Collect first: the imports' garbage cycles, once frozen, could never be freed and would count
    # against the learner's memory limit for the container's life.
    gc.collect()
    gc.freeze()
    claim.announce_warm(started)
    config = claim.wait_for_job(started)
    if config is None:
        os._exit(0)  # nobody claimed this sandbox in time
    nonce = config["nonce"]
    result_fd = os.dup(1)
    os.dup2(2, 1)  # pytest's own output must never be mistaken for a stage line
    with os.fdopen(result_fd, "w") as out:

        def announce(stage: str) -> None:
            out.write(f"{nonce}!{stage}\n")
            out.flush()

        report = run_tests(config, announce)
        write_report(Path(config["report"]), nonce, report)
    # The report is out; skip the interpreter's slow teardown of torch and friends.
    os._exit(0)


def write_report(path: Path, nonce: str, report: dict[str, Any]) -> None:
    """The report as a file only the judge can write (no log line a size limit could cut), nonce first."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(nonce + json.dumps(report, default=str))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
