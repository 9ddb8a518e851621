"""Shared helpers: bundles and notebooks made on the fly, and the sandbox image for Docker tests."""

from __future__ import annotations

import os

# Before Django is set up: tests use their own Redis database and media folder, which the worker
# processes they start share.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("MEDIA_ROOT", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test-media"))

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
# Bundles kept as fixtures: their tests are graded by the sandbox, never collected here.
collect_ignore = ["sandbox/in-process-course"]


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


@pytest.fixture
def make_bundle(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(tests: str, **kwargs) -> Path:
        kwargs.setdefault("slug", f"probe-{next(counter)}")
        return write_bundle(tmp_path, tests, **kwargs)

    return make


@pytest.fixture(scope="session")
def sandbox_settings():
    """Engine settings pointing at the sandbox image built from this checkout (built if missing)."""
    import docker

    try:
        docker.from_env().ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"Docker is not reachable: {exc}. Start dockerd (the README's test command does).")
    from grader.drift import environments_in_use
    from grader.engine import DEFAULT_ENVIRONMENT, EngineSettings
    from sandbox import image

    images = {name: image.build(name, log=lambda _: None) for name in environments_in_use(EXERCISES)}
    base = images.pop(DEFAULT_ENVIRONMENT)
    return EngineSettings(image=base, environments=images)
