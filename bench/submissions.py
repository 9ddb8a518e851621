"""Benchmark: the whole stack (HTTP API, Redis, one Celery worker of concurrency 2, Docker sandbox).

    .venv/bin/python bench/submissions.py [--latency-runs 5] [--burst 12]

Starts gunicorn and a Celery worker on a private SQLite database, Redis database 14 and media
folder (all under var/bench/), then prints:
- latency from POST to `graded` for the NumPy exercise, next to the engine's own time for the
  same grading (the Result's execution_time) and the difference: what the platform adds;
- throughput: ``--burst`` learners each submit at once; submissions per minute until all graded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
NUMPY = ROOT / "exercises" / "numpy" / "normalize-rows"


def _env() -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{VAR / 'db.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/14",
        MEDIA_ROOT=str(VAR / "media"),
        COURSE_VAR_DIR=str(VAR),
        SUBMISSIONS_PER_MINUTE="1000",
    )


def _request(method: str, path: str, token: str, body: bytes | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(
        BASE + path, body, {"Authorization": f"Token {token}", **(headers or {})}, method=method
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def submit(token: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="n.ipynb"\r\n\r\n').encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return _request("POST", "/api/v1/exercises/normalize-rows/submissions", token, body, headers)["id"]


# Learners who have passed the modules before NumPy (its prerequisites come first), so that the
# NumPy exercise is open to them; prints their API tokens.
SETUP_LEARNERS = """
import json
from django.utils import timezone
from rest_framework.authtoken.models import Token
from course.accounts.services import user_create
from course.curriculum.models import Exercise, Module
from course.progress.services import progress_record_grade

before = Exercise.objects.filter(module__position__lt=Module.objects.get(slug="numpy").position)
tokens = []
for i in range({count}):
    user = user_create(username=f"l{{i}}", role="learner")[0]
    for exercise in before.select_related("current_version"):
        points = exercise.current_version.points
        progress_record_grade(
            learner_id=user.id, exercise_id=exercise.id, score=points, max_score=points, at=timezone.now()
        )
    tokens.append(Token.objects.create(user=user).key)
print(json.dumps(tokens))
"""


def wait(token: str, submission_id: int) -> dict:
    while True:
        body = _request("GET", f"/api/v1/submissions/{submission_id}", token)
        if body["status"] in ("graded", "error"):
            return body
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--burst", type=int, default=12)
    args = parser.parse_args()
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    env = _env()
    py = sys.executable
    subprocess.run([py, "-c", "import redis; redis.Redis.from_url('redis://127.0.0.1:6379/14').flushdb()"], check=True)
    for command in (["migrate", "-v0"], ["load_curriculum"]):
        subprocess.run([py, "manage.py", *command], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    tokens = json.loads(
        subprocess.run(
            [
                py,
                "manage.py",
                "shell",
                "-c",
                SETUP_LEARNERS.format(count=args.burst + 1),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    log = open(VAR / "services.log", "wb")
    services = [
        subprocess.Popen(
            [
                str(Path(py).parent / "gunicorn"),
                "course.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                "2",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        ),
        subprocess.Popen(
            [
                py,
                "-m",
                "celery",
                "-A",
                "course.config.celery:app",
                "worker",
                "-Q",
                "cpu",
                "-c",
                "2",
                "--prefetch-multiplier",
                "1",
                "--without-mingle",
                "--without-gossip",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        ),
    ]
    try:
        time.sleep(6)  # gunicorn and the worker's pool
        data = (NUMPY / "solution.ipynb").read_bytes()
        wait(tokens[0], submit(tokens[0], data))  # warm the worker processes and the page cache
        latencies, engine = [], []
        for _ in range(args.latency_runs):
            started = time.perf_counter()
            body = wait(tokens[0], submit(tokens[0], data))
            latencies.append(time.perf_counter() - started)
            engine.append(body["result"]["execution_time"])
        lat, eng = statistics.median(latencies), statistics.median(engine)
        print(f"NumPy exercise, median of {args.latency_runs}, seconds")
        print(f"{'POST to graded':>16}{'engine':>10}{'platform adds':>15}")
        print(f"{lat:16.3f}{eng:10.3f}{lat - eng:15.3f}")

        started = time.perf_counter()
        with ThreadPoolExecutor(args.burst) as pool:
            ids = list(pool.map(lambda t: (t, submit(t, data)), tokens[1:]))
            results = list(pool.map(lambda pair: wait(*pair), ids))
        wall = time.perf_counter() - started
        assert all(r["score"] == r["max_score"] for r in results), results
        print(f"\n{args.burst} submissions at once, one worker of concurrency 2")
        print(f"{'wall s':>8}{'per minute':>12}")
        print(f"{wall:8.2f}{args.burst / wall * 60:12.1f}")
    finally:
        for proc in services:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in services:
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
