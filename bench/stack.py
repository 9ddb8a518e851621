"""The whole platform as separate processes on loopback, for the benchmarks and the fault suite.

A private database (SQLite file, or a PostgreSQL database created for the run), Redis database 14,
a media folder under ``var/<name>/``; gunicorn, Celery workers and beat started and stopped (or
killed) one by one; learners with API tokens and passwords who may submit the NumPy exercise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
NUMPY = ROOT / "exercises" / "numpy" / "normalize-rows"
REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "bench-password-1"

# Learners who have passed the modules before NumPy (its prerequisites come first), so that the
# NumPy exercise is open to them, in one cohort followed by one instructor; prints their tokens.
SETUP_LEARNERS = """
import json
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise, Module
from course.progress.services import progress_record_grade

cohort = Cohort.objects.create(name="bench")
staff = user_create(username="instructor", role="instructor", password={password!r})[0]
Enrollment.objects.create(cohort=cohort, user=staff, role="staff")
before = list(
    Exercise.objects.filter(module__position__lt=Module.objects.get(slug="numpy").position)
    .select_related("current_version")
)
tokens = []
for i in range({count}):
    user = user_create(username=f"l{{i}}", role="learner", password={password!r})[0]
    Enrollment.objects.create(cohort=cohort, user=user)
    for exercise in before:
        points = exercise.current_version.points
        with transaction.atomic():
            progress_record_grade(
                learner_id=user.id, exercise_id=exercise.id, score=points, max_score=points, at=timezone.now()
            )
    tokens.append([user.username, Token.objects.create(user=user).key])
print(json.dumps({{"learners": tokens, "staff": Token.objects.create(user=staff).key, "cohort": cohort.id}}))
"""

# Per submission: what the database holds (the fault suite's "graded exactly once").
AUDIT = """
import json
from django.db.models import Count
from course.submissions.models import Submission, TestResult
ids = {ids!r}
rows = {{
    s.id: {{"status": s.status, "score": s.score, "max_score": s.max_score, "attempts": s.attempts,
           "learner": s.learner.username}}
    for s in Submission.objects.filter(id__in=ids).select_related("learner")
}}
for sid, n in TestResult.objects.filter(submission_id__in=ids).values_list("submission").annotate(n=Count("id")):
    rows[sid]["test_rows"] = n
mine = Submission.objects.filter(regrade=None).values("learner__username")
per_learner = list(mine.annotate(n=Count("id")).values_list("n", flat=True))
print(json.dumps({{"rows": rows, "total": Submission.objects.count(), "max_per_learner": max(per_learner or [0])}}))
"""


@dataclass
class Learner:
    username: str
    token: str


class Stack:
    def __init__(self, name: str, port: int, *, postgres: bool = False, **settings: str) -> None:
        self.var = ROOT / "var" / name
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.database = f"coursegrade_{name.replace('-', '_')}" if postgres else None
        database_url = (
            f"postgres://postgres@127.0.0.1:5432/{self.database}"
            if postgres
            else f"sqlite:///{self.var / 'db.sqlite3'}"
        )
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REDIS_URL=REDIS_URL,
            MEDIA_ROOT=str(self.var / "media"),
            COURSE_VAR_DIR=str(self.var),
            SUBMISSIONS_PER_MINUTE="1000",
            **settings,
        )
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.spawned_workers = 0
        self.beat: subprocess.Popen | None = None
        self.learners: list[Learner] = []
        self.staff_token = ""
        self.cohort_id = 0

    # --- the database and the people ------------------------------------------------------------
    def prepare(self, learners: int) -> None:
        shutil.rmtree(self.var, ignore_errors=True)
        self.var.mkdir(parents=True)
        self.manage_py(f"import redis; redis.Redis.from_url({REDIS_URL!r}).flushdb()", django=False)
        if self.database:
            for sql in (f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)", f"CREATE DATABASE {self.database}"):
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
        for command in (["migrate", "-v0"], ["load_curriculum"]):
            subprocess.run([PY, "manage.py", *command], env=self.env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        made = json.loads(self.manage_py(SETUP_LEARNERS.format(count=learners, password=PASSWORD)))
        self.learners = [Learner(name, token) for name, token in made["learners"]]
        self.staff_token, self.cohort_id = made["staff"], made["cohort"]

    def manage_py(self, code: str, *, django: bool = True) -> str:
        command = [PY, "manage.py", "shell", "-c", code] if django else [PY, "-c", code]
        done = subprocess.run(command, env=self.env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{command[:3]} failed:\n{done.stderr[-3000:]}")
        out = done.stdout
        return out.strip().splitlines()[-1] if out.strip() else ""

    def audit(self, ids: list[int]) -> dict:
        found = json.loads(self.manage_py(AUDIT.format(ids=ids)))
        found["rows"] = {int(k): v for k, v in found["rows"].items()}
        return found

    # --- processes --------------------------------------------------------------------------------
    def _spawn(self, args: list[str], log: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        out = open(self.var / log, "ab")
        env = self.env | (env or {})
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)

    def start_web(self, workers: int = 2) -> None:
        gunicorn = str(Path(PY).parent / "gunicorn")
        args = [gunicorn, "course.config.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        self.web = self._spawn([*args, "--workers", str(workers)], "web.log")
        self.wait_until(lambda: self._healthy(), 30, "the web process did not come up")

    def start_worker(
        self, concurrency: int | None = 2, name: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """A Celery worker on queue ``cpu`` (and ``env`` settings on top of the stack's); ``concurrency``
        None leaves it to admission control."""
        name = name or f"w{len(self.workers)}-{uuid.uuid4().hex[:6]}@%h"
        args = [PY, "-m", "celery", "-A", "course.config.celery:app", "worker", "-Q", "cpu"]
        args += ["-c", str(concurrency)] if concurrency else []
        args += ["--prefetch-multiplier", "1", "--without-mingle", "--without-gossip", "-n", name, "-l", "info"]
        self.spawned_workers += 1
        log = self.var / f"worker-{self.spawned_workers}.log"  # a restarted worker gets a log of its own
        worker = self._spawn(args, log.name, env)
        self.workers.append(worker)
        self.wait_until(lambda: b" ready." in log.read_bytes(), 60, "the worker did not start")
        return worker

    def start_beat(self) -> None:
        args = [PY, "-m", "celery", "-A", "course.config.celery:app", "beat", "-s", str(self.var / "beat-schedule")]
        self.beat = self._spawn(args, "beat.log")

    @staticmethod
    def signal(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            proc.wait(timeout=90)

    def stop(self) -> None:
        for proc in [self.web, self.beat, *self.workers]:
            self.signal(proc)
        self.web, self.beat, self.workers = None, None, []

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                return True
        except (OSError, urllib.error.URLError):
            return False

    @staticmethod
    def wait_until(check, timeout: float, message: str, every: float = 0.1) -> float:
        started = time.monotonic()
        while not check():
            if time.monotonic() - started > timeout:
                raise TimeoutError(message)
            time.sleep(every)
        return time.monotonic() - started

    # --- the API, as a learner ---------------------------------------------------------------------
    def request(self, method: str, path: str, token: str, body: bytes | None = None, headers=None) -> dict:
        headers = {"Authorization": f"Token {token}", **(headers or {})}
        request = urllib.request.Request(self.base + path, body, headers, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def submit(self, token: str, data: bytes, slug: str = "normalize-rows") -> int:
        boundary = uuid.uuid4().hex
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="n.ipynb"\r\n\r\n'
        payload = body.encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", f"/api/v1/exercises/{slug}/submissions", token, payload, headers)["id"]

    def status(self, token: str, submission_id: int) -> dict:
        return self.request("GET", f"/api/v1/submissions/{submission_id}", token)

    def wait_graded(self, token: str, submission_id: int, timeout: float = 600, every: float = 0.02) -> dict:
        """Polls through brief outages of the web process (a restart is one of the faults)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                body = self.status(token, submission_id)
            except (OSError, urllib.error.URLError):
                body = {"status": "unreachable"}
            if body["status"] in ("graded", "error"):
                return body
            time.sleep(every)
        raise TimeoutError(f"submission {submission_id} not graded in {timeout} s")

    def page_shows(self, username: str, slug: str = "normalize-rows") -> str:
        """The learner's exercise page, logged in with a password as a browser would: its HTML."""
        import requests

        with requests.Session() as session:
            login = session.get(f"{self.base}/accounts/login/", timeout=30)
            form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": login.cookies["csrftoken"]}
            session.post(f"{self.base}/accounts/login/", data=form, headers={"Referer": login.url}, timeout=30)
            return session.get(f"{self.base}/exercises/{slug}/", timeout=30).text


def sandbox_objects() -> set[str]:
    """Ids of every grading with a container or volume on this Docker host (the bench runs alone)."""
    from sandbox.driver import LABEL, all_labels, docker_client

    return {labels.get(f"{LABEL}.id") for labels in all_labels(docker_client())} - {None}
