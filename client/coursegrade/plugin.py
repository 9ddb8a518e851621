"""The pytest plugin ``check()`` runs the visible tests with: fixtures, markers, results.

Imported by ``check()`` only, so that ``import coursegrade`` never needs pytest. The fixtures are
those of the grader's judge, but on this process's own notebook namespace: ``student.name`` is
``name`` in the notebook, as it is now.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


class NotDefined(AssertionError, AttributeError):
    """The notebook has no such name: a failed check, and False for ``hasattr(student, name)``."""


class Student:
    """``student.name`` reads ``name`` from the notebook's namespace (the live objects, not copies)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        object.__setattr__(self, "_namespace", namespace)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        namespace = object.__getattribute__(self, "_namespace")
        try:
            return namespace[name]
        except KeyError:
            raise NotDefined(
                f"your notebook does not define {name!r}: run the cell that defines it, then check() again"
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in object.__getattribute__(self, "_namespace")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("tests may not change the notebook's namespace")


class KernelHelpers:
    """``kernel_helpers.training`` is the bundle's ``tests/kernel_helpers/training.py``, imported here."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._modules: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._modules:
            path = self._folder / f"{name}.py"
            if not path.is_file():
                raise AttributeError(f"the exercise has no tests/kernel_helpers/{name}.py")
            spec = importlib.util.spec_from_file_location(f"kernel_helpers.{name}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[name] = module
        return self._modules[name]


@dataclass
class Run:
    """What one ``check()`` gives the plugin, and what the plugin records."""

    namespace: dict[str, Any]
    helpers: Path
    points: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)


_run: Run | None = None


def start(run: Run) -> None:
    global _run
    _run = run


def _current() -> Run:
    assert _run is not None, "the coursegrade plugin runs inside check() only"
    return _run


@pytest.fixture(scope="session")
def student() -> Student:
    """The notebook's namespace: ``student.name`` is ``name`` there."""
    return Student(_current().namespace)


@pytest.fixture(scope="session")
def device() -> str:
    """Where the tests put tensors: "cuda" when torch is importable and sees a GPU, else "cpu"."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="session")
def kernel_helpers() -> KernelHelpers:
    return KernelHelpers(_current().helpers)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points this test is worth (default 1)")
    config.addinivalue_line("markers", "visible: the learner sees this test's code and full output")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    run = _current()
    for item in items:
        marker = item.get_closest_marker("points")
        run.points[item.nodeid] = float(marker.args[0]) if marker and marker.args else 1.0
        run.names[item.nodeid] = item.nodeid.split("::", 1)[-1]


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _current().collect_errors.append(f"{report.nodeid}: {report.longreprtext[-3000:]}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome = _current().outcomes.setdefault(report.nodeid, {"status": "passed", "message": "", "details": ""})
    if report.failed and outcome["status"] != "failed":
        outcome["status"] = "failed" if report.when == "call" else "error"
        outcome["message"] = _message(report)
        outcome["details"] = report.longreprtext
    elif report.skipped and outcome["status"] == "passed":
        outcome["status"] = "skipped"
        outcome["message"] = "skipped"


def _message(report: pytest.TestReport) -> str:
    """The exception line: ``ValueError: ...`` as the learner's code raised it."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None) or (report.longreprtext.strip().splitlines() or [""])[-1]
    prefix = f"{NotDefined.__module__}.{NotDefined.__qualname__}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
