"""Entry point of the judge container: run the bundle's tests against the learner's kernel.

Trusted. Reads its settings from GRADER_JUDGE (JSON), the tests from /bundle (read-only to it),
and talks to the kernel only through the socket in /ipc. Its original stdout carries only lines
that start with a per-run nonce: ``<nonce>!judging`` once the notebook has run and the tests
start on it (the host follows this for the learner's live status), then ``<nonce>{report JSON}``.
Everything pytest prints goes to stderr.

Learner-facing output for hidden tests carries only the exception type and message the test
chose to give, never its source: assertions are not rewritten (``--assert=plain``), tracebacks
are dropped, and any line of a hidden test file that still shows up is blanked.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import wire
from .student import (
    HELPERS_DIR,
    KernelClient,
    KernelHelpers,
    KernelUnavailable,
    NotData,
    Student,
    StudentError,
    StudentTimeout,
)

BUNDLE = Path("/bundle")
POLL_S = 0.02


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
        self._hidden_lines: list[str] = []
        self._outcomes: dict[str, dict[str, Any]] = {}

    # --- fixtures ---------------------------------------------------------------------------

    def _kernel(self) -> KernelClient:
        if self._client is not None:
            return self._client
        if self._unavailable is not None:
            raise NotebookUnavailable(self._unavailable)
        ipc = Path(self.config["ipc"])
        wait_until = self.started + float(self.config["kernel_wait_s"])
        while not (ipc / "ready").exists():
            if time.monotonic() > wait_until:
                self._unavailable = "your notebook did not finish running within the time limit"
                raise NotebookUnavailable(self._unavailable)
            time.sleep(POLL_S)
        self.kernel_ready_at = time.time()
        if self.announce is not None:
            self.announce("judging")
        try:
            with open(ipc / "ready", "rb") as f:
                report = json.loads(f.read(4 << 20))
            self.kernel_report = report if isinstance(report, dict) else {}
        except (OSError, ValueError, RecursionError):
            self.kernel_report = {"status": "crashed"}
        status = self.kernel_report.get("status")
        if self.kernel_report.get("serving") is not True:
            self._unavailable = {
                "stuck": "your notebook did not finish running within the time limit",
                "timeout": "your notebook did not finish running within the time limit",
                "crashed": "your notebook's kernel died before the tests could run (it may have run out of memory)",
            }.get(str(status), "your notebook's kernel could not be reached")
            raise NotebookUnavailable(self._unavailable)
        self._client = KernelClient(str(ipc / "kernel.sock"), int(self.config["max_message_bytes"]))
        return self._client

    # --- hooks ------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points this test is worth (default 1)")
        config.addinivalue_line("markers", "visible: the learner sees this test's code and full output")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected_at = time.time()
        torch = sys.modules.get("torch")
        if torch is not None:
            # Pay first-use costs now, while the notebook is still running: tensors come back as
            # safetensors, and the first assert_close imports torch.distributed (about 0.4 s).
            import safetensors.torch  # noqa: F401

            torch.testing.assert_close(torch.zeros(1), torch.zeros(1))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-3000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        hidden_files = {str(item.path) for item in items if item.get_closest_marker("visible") is None}
        self._hidden_lines = _hidden_snippets(hidden_files)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # Each test starts with a clean record of what the platform failed to do for it.
        if self._client is not None:
            self._client.platform_failure = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        limit = float(self.config["test_timeout_s"])
        budget_left = self.started + float(self.config["judge_budget_s"]) - time.monotonic()
        limit = max(0.1, min(limit, budget_left))
        if self._client is not None:
            self._client.deadline = time.monotonic() + limit

        def on_alarm(signum: int, frame: Any) -> None:
            raise TestTimeout(f"the test did not finish within {limit:.0f} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        # The socket deadline fires first for slow learner code; the alarm catches the rest.
        signal.setitimer(signal.ITIMER_REAL, limit + 1.0)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if self._client is not None:
                self._client.deadline = None

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
            output = self._redact(f"the grader could not check this: {platform_failure}")
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
                "name": item.nodeid.split("::", 1)[-1] if "::" in item.nodeid else item.nodeid,
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
        if isinstance(exc, StudentError):
            text = f"{exc}\n{exc.learner_traceback}".rstrip()
        elif isinstance(exc, (StudentTimeout, TestTimeout, KernelUnavailable, NotebookUnavailable, NotData)):
            text = str(exc)
        elif visible:
            return report.longreprtext[-int(self.config["max_output_chars"]) :]
        elif isinstance(exc, AssertionError):
            text = str(exc) or "a hidden check failed"
        elif exc is not None:
            text = f"{type(exc).__name__}: {exc}"
        else:
            text = "failed"
        return self._redact(text) if not visible else text

    def _redact(self, text: str) -> str:
        for line in self._hidden_lines:
            if line in text:
                text = text.replace(line, "[hidden test code]")
        return text

    def report(self) -> dict[str, Any]:
        return {
            "tests": self.results,
            "collect_errors": self.collect_errors,
            "kernel": {
                k: self.kernel_report.get(k)
                for k in ("status", "serving", "cells", "started", "preload_started", "kernel_up", "notebook_done")
            },
            "kernel_lost": bool(self._client and self._client.lost),
            "kernel_ready_at": self.kernel_ready_at,
            "tests_done_at": time.time(),
            "collected_at": getattr(self, "collected_at", None),
        }


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


def _hidden_snippets(paths: set[str]) -> list[str]:
    """Source lines and string literals of hidden test files, longest first, to blank in output.

    Longest first, so a whole line is blanked before any shorter piece inside it. String
    literals matter because a test's arguments reach the learner's code, which could put them
    in an exception message.
    """
    snippets: set[str] = set()
    for path in paths:
        source = Path(path).read_text(encoding="utf-8", errors="replace")
        snippets.update(line.strip() for line in source.splitlines() if len(line.strip()) >= 8)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        # Messages the author wrote for the learner (assert messages, raised errors, the msg= and
        # err_msg= of testing helpers such as torch.testing.assert_close) stay readable.
        meant_for_learner = {
            id(n) for node in ast.walk(tree) for part in _messages(node) if part is not None for n in ast.walk(part)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 6:
                if id(node) not in meant_for_learner:
                    snippets.update((node.value, repr(node.value)))
    return sorted(snippets, key=len, reverse=True)


def _messages(node: ast.AST) -> list[ast.AST | None]:
    if isinstance(node, ast.Assert):
        return [node.msg]
    if isinstance(node, ast.Raise):
        return [node]
    if isinstance(node, ast.Call):
        return [k.value for k in node.keywords if k.arg in ("msg", "err_msg")]
    return []


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
    args = [
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
    code = pytest.main(args, plugins=[plugin, sys.modules[__name__]])
    report = plugin.report()
    report["exit_code"] = int(code)
    return report


def main() -> None:
    config = json.loads(os.environ["GRADER_JUDGE"])
    nonce = config["nonce"]
    result_fd = os.dup(1)
    os.dup2(2, 1)  # pytest's own output must never be mistaken for the report
    with os.fdopen(result_fd, "w") as out:

        def announce(stage: str) -> None:
            out.write(f"{nonce}!{stage}\n")
            out.flush()

        report = run_tests(config, announce)
        out.write(nonce + json.dumps(report, default=str) + "\n")
    # The report is out; skip the interpreter's slow teardown of torch and friends.
    os._exit(0)


if __name__ == "__main__":
    main()
