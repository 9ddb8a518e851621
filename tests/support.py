"""Helpers shared by every test package: the repository's paths, notebooks and bundles made on the fly."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"


def notebook(*cells: str, nbformat: int = 4) -> bytes:
    """A minimal valid notebook whose code cells are ``cells`` (dedented)."""
    return json.dumps(
        {
            "nbformat": nbformat,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"c{i}",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": textwrap.dedent(src).strip(),
                }
                for i, src in enumerate(cells)
            ],
        }
    ).encode()


def write_bundle(
    root: Path,
    tests: str,
    *,
    slug: str = "probe",
    limits: dict | None = None,
    gpu: str = "none",
    points: int = 1,
    data: dict[str, bytes] | None = None,
    environment: str | None = None,
) -> Path:
    """Write a bundle with one test file into ``root/<module>/<slug>`` and return its folder."""
    path = root / "testing" / slug
    (path / "tests").mkdir(parents=True)
    lines = [f'slug = "{slug}"', f'title = "{slug}"', f"points = {points}", f'gpu = "{gpu}"']
    if environment:
        lines.append(f'environment = "{environment}"')
    if limits:
        lines.append("[limits]")
        lines += [f"{k} = {v}" for k, v in limits.items()]
    (path / "exercise.toml").write_text("\n".join(lines) + "\n")
    (path / "README.md").write_text(f"# {slug}\n")
    (path / "tests" / "test_probe.py").write_text(textwrap.dedent(tests))
    for name, content in (data or {}).items():
        (path / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (path / "data" / name).write_bytes(content)
    return path


def wait_for(check, timeout: float, message: str, every: float = 0.1):
    """Poll ``check`` until it returns something true (returned), or fail with ``message`` after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (after {timeout:.0f} s)")
        time.sleep(every)
