"""Helpers of the platform tests: API clients, uploads, waiting for a grade, real worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from rest_framework.test import APIClient

from course.accounts.models import User
from sandbox.driver import owner_label
from tests.support import EXERCISES, ROOT

# Every worker started, so that the session can kill those a failing test left running.
STARTED: list[Worker] = []


def load_course(root: Path, settings, bundles: list[str]):
    """The real curriculum.toml with only ``bundles`` (``module/slug``) under ``root``, loaded into the database."""
    from course.curriculum.services import curriculum_load

    root.mkdir()
    shutil.copy(EXERCISES / "curriculum.toml", root)
    for bundle in bundles:
        shutil.copytree(EXERCISES / bundle, root / bundle, ignore=shutil.ignore_patterns("__pycache__"))
    settings.EXERCISES_DIR = root
    return curriculum_load(root=root)


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


def wait_until_done(client: APIClient, path: str, done: tuple[str, ...], timeout: float, every: float = 0.05) -> dict:
    """Poll an API resource until its ``status`` is one of ``done``; its last body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(path).json()
        if body["status"] in done:
            return body
        time.sleep(every)
    raise AssertionError(f"{path} not {' or '.join(done)} in {timeout} s: {body}")


def wait_graded(client: APIClient, submission_id: int, timeout: float = 90.0) -> dict:
    return wait_until_done(client, f"/api/v1/submissions/{submission_id}", ("graded", "error"), timeout)


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
            # Warm sandboxes of the base environment only: an mi pair imports TransformerLens, which
            # no platform test grades, for half a minute of both cores.
            SANDBOX_WARM_PAIRS=os.environ.get("SANDBOX_WARM_PAIRS", "base=1"),
        )
        self.proc: subprocess.Popen | None = None
        self.log = Path(settings.MEDIA_ROOT).parent / f"worker-{time.time_ns()}.log"

    def start(self) -> Worker:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        STARTED.append(self)
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


def owners_of(worker: Worker) -> set[str]:
    """The owner labels of a worker's processes: it runs in a session of its own, its pool processes too."""
    assert worker.proc is not None
    owners = set()
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.getsid(int(entry)) == worker.proc.pid:
                owners.add(owner_label(int(entry)))
        except OSError:  # ended meanwhile
            continue
    return owners
