"""Helpers for the sandbox tests: environment folders made on the fly."""

from __future__ import annotations

import shutil
from pathlib import Path

from sandbox import environment


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
