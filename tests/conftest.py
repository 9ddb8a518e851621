"""Shared fixtures: bundles made on the fly and the sandbox image for Docker tests (helpers: support.py)."""

from __future__ import annotations

import os

# Before Django is set up: tests use their own Redis database and media folder, which the worker
# processes they start share.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("MEDIA_ROOT", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test-media"))

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import EXERCISES, write_bundle

# Bundles kept as fixtures: their tests are graded by the sandbox, never collected here.
collect_ignore = ["sandbox/in-process-course"]


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
