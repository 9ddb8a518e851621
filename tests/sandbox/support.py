"""Helpers for the sandbox tests: environment folders made on the fly, the attack tests' bundle and grading."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from grader.engine import grade
from sandbox import environment
from sandbox.driver import gradings_of, owner_label, wait_removals


def copy_environments(tmp_path: Path) -> Path:
    """A copy of sandbox/environments/ to change freely; same content, so the same tags."""
    root = tmp_path / "environments"
    shutil.copytree(environment.ROOT, root)
    return root


def define_environment(root: Path, name: str, toml: str, requirements: str) -> Path:
    """Write (or rewrite) environment ``name`` under ``root``."""
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "environment.toml").write_text(toml)
    (path / "requirements.txt").write_text(requirements)
    return path


# A bundle whose one hidden test asks add(2, 3) == 5: any point for WRONG_ADD is unearned.
FAST = {"timeout_s": 10, "cell_timeout_s": 4, "tests_timeout_s": 20, "test_timeout_s": 5, "memory_mb": 512}
ADD_TEST = """
import pytest

@pytest.mark.points(1)
def test_add(student):
    assert student.add(2, 3) == 5
"""
WRONG_ADD = "def add(a, b):\n    return 0"
RIGHT_ADD = "def add(a, b):\n    return a + b"


def no_leftovers() -> bool:
    """No container or volume of a grading this process ran is left on this Docker host.

    Only this process's: a worker or another checkout's tests may be grading on the same engine,
    and their objects are theirs to remove (what a dead process left, reap_stale removes).
    """
    wait_removals()  # a grading's pair is removed in the background once the grading is done
    return not gradings_of(owner_label())


def grade_bounded(bundle, nb, settings):
    """Grade, asserting that it took bounded time, left nothing behind and gave a storable Result."""
    started = time.monotonic()
    result = grade(bundle, nb, settings)
    elapsed = time.monotonic() - started
    assert elapsed < 120, f"grading took {elapsed:.0f} s"
    assert no_leftovers()
    json.loads(result.to_json())  # always serialisable
    return result
