"""The production deployment files: docker-compose.yml is valid and has the shape DESIGN.md asks for.

Validity is checked by docker-compose itself (Debian's `docker-compose` package, installed by the
bootstrap script); the structure is checked on the parsed YAML, so a wrong but valid file fails too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

CORE_SERVICES = {"web", "worker", "beat", "redis", "postgres"}
GPU_WORKER = "worker-gpu"
APP = "course.config.celery:app"
DOCKER_SOCKET = "/var/run/docker.sock"

# The variables the compose file refuses to run without (`${VAR:?message}`).
REQUIRED_ENV = {
    "SECRET_KEY": "test-secret",
    "POSTGRES_PASSWORD": "test-password",
    "SANDBOX_IMAGE": "coursegrade-sandbox:cpu-test",
    "DOCKER_GID": "999",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the file's YAML anchors and `<<` merge keys, as compose does.
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def _volume_specs(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume entry, short syntax or long."""
    specs = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            specs.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            source, _, rest = volume.partition(":")
            specs.append((source, rest.partition(":")[0]))
    return specs


def _run_compose(*args: str, env: dict[str, str], env_file: Path) -> subprocess.CompletedProcess[str]:
    # An empty --env-file: an operator's .env in the checkout must not decide the outcome.
    # (docker-compose 1.29 wants a regular file; /dev/null is refused.)
    env_file.write_text("")
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_ENV and not k.startswith("COMPOSE_")}
    env.pop("SANDBOX_GPU_IMAGE", None)
    return env


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    if shutil.which("docker-compose") is None:
        pytest.fail(
            "docker-compose is not installed, so docker-compose.yml cannot be validated: run "
            "scripts/bootstrap.sh (it installs Debian's `docker-compose` package) and test again"
        )
    env = {**_clean_env(), **REQUIRED_ENV}
    for profile_args in ([], ["--profile", "gpu"]):
        proc = _run_compose(*profile_args, "config", "-q", env=env, env_file=tmp_path / "empty.env")
        assert proc.returncode == 0, f"docker-compose {' '.join(profile_args)} config failed:\n{proc.stderr}"


def test_docker_compose_refuses_to_run_without_the_secrets(tmp_path: Path) -> None:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is not installed: run scripts/bootstrap.sh and test again")
    for missing in REQUIRED_ENV:
        env = {**_clean_env(), **{k: v for k, v in REQUIRED_ENV.items() if k != missing}}
        proc = _run_compose("config", "-q", env=env, env_file=tmp_path / "empty.env")
        assert proc.returncode != 0, f"docker-compose accepted the file without {missing}"
        assert f"set {missing}" in proc.stderr, proc.stderr


def test_the_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert CORE_SERVICES | {GPU_WORKER} == set(services)
    # Without a profile, `docker-compose up` starts exactly the five core services.
    assert {name for name, s in services.items() if not s.get("profiles")} == CORE_SERVICES


def test_only_the_workers_get_the_docker_socket(services: dict[str, dict[str, Any]]) -> None:
    with_socket = {name for name, s in services.items() if any("docker.sock" in src for src, _ in _volume_specs(s))}
    assert with_socket == {"worker", GPU_WORKER}
    for name in with_socket:
        assert (DOCKER_SOCKET, DOCKER_SOCKET) in _volume_specs(services[name])
        # The image's user is not root: it reaches the socket through the socket's group.
        assert services[name].get("group_add"), f"{name} cannot use the socket without group_add"


def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no health check"
    tests = {name: " ".join(s["healthcheck"]["test"]) for name, s in services.items()}
    assert "urllib" in tests["web"] and "http://127.0.0.1:8000/healthz" in tests["web"]
    for worker in ("worker", GPU_WORKER):
        assert f"celery -A {APP} inspect ping" in tests[worker]
        assert "-d celery@$$HOSTNAME" in tests[worker]
    assert "celerybeat.pid" in tests["beat"] and "--pidfile /tmp/celerybeat.pid" in _command(services["beat"])
    assert "redis-cli ping" in tests["redis"]
    assert "pg_isready" in tests["postgres"]


def test_start_order_waits_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert spec == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert set(services["web"]["depends_on"]) == {"postgres", "redis"}
    for name in ("worker", "beat", GPU_WORKER):
        # web runs the migrations before it reports healthy.
        assert set(services[name]["depends_on"]) == {"postgres", "redis", "web"}


def test_app_services_and_commands(services: dict[str, dict[str, Any]]) -> None:
    for name in ("web", "worker", "beat", GPU_WORKER):
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        assert "BASE_IMAGE" in build["args"]
        env = _environment(services[name])
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["MEDIA_ROOT"] == "/data/media"
    assert "gunicorn course.config.wsgi:application" in _command(services["web"])
    assert "0.0.0.0:8000" in _command(services["web"])
    assert any(port.endswith(":8000") for port in services["web"]["ports"])
    assert f"celery -A {APP} beat" in _command(services["beat"])
    cpu = _command(services["worker"])
    assert f"celery -A {APP} worker -Q cpu" in cpu and "--prefetch-multiplier 1" in cpu
    assert "SANDBOX_IMAGE" in _environment(services["worker"])


def test_the_gpu_worker(services: dict[str, dict[str, Any]]) -> None:
    gpu = services[GPU_WORKER]
    assert gpu["profiles"] == ["gpu"]
    command = _command(gpu)
    assert f"celery -A {APP} worker -Q gpu" in command and "-Q cpu" not in command
    env = _environment(gpu)
    assert env["SANDBOX_GPU_DEVICES"], "a GPU worker needs SANDBOX_GPU_DEVICES"
    assert "SANDBOX_IMAGE" in env
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


def test_volumes(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])
    assert ("postgres-data", "/var/lib/postgresql/data") in _volume_specs(services["postgres"])
    assert ("redis-data", "/data") in _volume_specs(services["redis"])
    assert "--appendonly yes" in _command(services["redis"])
    for name in ("web", "worker", GPU_WORKER):
        assert ("media", "/data/media") in _volume_specs(services[name]), name
    # The official images by default; a host without a registry names compatible local builds.
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7}"
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:15}"
    pg_env = _environment(services["postgres"])
    assert {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"} <= set(pg_env)


def test_the_dockerfile_builds_offline_as_documented() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm" in text
    assert "pip install --no-index --find-links /wheels ." in text
    assert "COPY wheels/ /wheels/" in text
    assert "collectstatic --noinput" in text
    assert "COPY client/ client/" in text, "the site serves the notebook client from its source"
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert "course.config.wsgi:application" in text
