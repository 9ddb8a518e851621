"""Platform fixtures: users, the loaded curriculum, an API client, and a real Celery worker process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from tests.conftest import EXERCISES, ROOT


@pytest.fixture(scope="session", autouse=True)
def _clean_media_and_queue():
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    yield
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The platform's mechanics are tested on a small, stable curriculum: the real modules, with only
# these two bundles (so the modules in between have nothing to do and unlock). The whole shipped
# curriculum is validated by tests/grader/test_validate.py.
TEST_BUNDLES = ["numpy/normalize-rows", "einops-einsum/causal-attention-pattern"]


@pytest.fixture
def curriculum(db, settings, tmp_path):
    from course.curriculum.services import curriculum_load

    root = tmp_path / "exercises"
    root.mkdir()
    shutil.copy(EXERCISES / "curriculum.toml", root)
    for bundle in TEST_BUNDLES:
        shutil.copytree(EXERCISES / bundle, root / bundle, ignore=shutil.ignore_patterns("__pycache__"))
    settings.EXERCISES_DIR = root
    return curriculum_load(root=root)


def _user(username: str, role: str) -> User:
    return user_create(username=username, role=role, password="pw")[0]


@pytest.fixture
def learner(db) -> User:
    return _user("alice", User.Role.LEARNER)


@pytest.fixture
def other_learner(db) -> User:
    return _user("bob", User.Role.LEARNER)


@pytest.fixture
def instructor(db) -> User:
    return _user("ines", User.Role.INSTRUCTOR)


@pytest.fixture
def cohort(db, learner, instructor) -> Cohort:
    cohort = Cohort.objects.create(name="Autumn")
    Enrollment.objects.create(cohort=cohort, user=learner, role=Enrollment.Role.LEARNER)
    Enrollment.objects.create(cohort=cohort, user=instructor, role=Enrollment.Role.STAFF)
    return cohort


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def upload(client: APIClient, slug: str, data: bytes, name: str = "work.ipynb"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/api/v1/exercises/{slug}/submissions", {"notebook": SimpleUploadedFile(name, data)}, format="multipart"
    )


def wait_graded(client: APIClient, submission_id: int, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/submissions/{submission_id}").json()
        if body["status"] in ("graded", "error"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"submission {submission_id} not graded in {timeout} s: {body}")


_started: list[Worker] = []


@pytest.fixture(scope="session", autouse=True)
def _no_stray_workers():
    """However a test ends, no worker it started outlives the session (it would take later tasks)."""
    yield
    for worker in _started:
        worker.kill()


class Worker:
    """A real `celery worker` process (its own process group, so it can be killed whole)."""

    def __init__(self, sandbox_image: str) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            database_url = f"sqlite:///{db['NAME']}"
        else:
            host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{host}/{db['NAME']}"
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            SANDBOX_IMAGE=sandbox_image,
            REDIS_URL=settings.REDIS_URL,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            PYTHONPATH=str(ROOT),
        )
        self.proc: subprocess.Popen | None = None
        self.log = Path(settings.MEDIA_ROOT).parent / f"worker-{time.time_ns()}.log"

    def start(self) -> Worker:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "course.config.celery:app",
                "worker",
                "-Q",
                "cpu,gpu",
                "-c",
                "2",
                "--prefetch-multiplier",
                "1",
                "-l",
                "info",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"test{time.time_ns()}@%h",
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while b" ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=60)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@pytest.fixture
def worker(transactional_db, sandbox_settings):
    w = Worker(sandbox_settings.image).start()
    yield w
    w.stop()
