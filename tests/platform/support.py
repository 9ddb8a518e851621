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

CHROMIUM = "/usr/bin/chromium"
# Screenshots of the browser tests, beside the test media.
ARTIFACTS = Path(settings.MEDIA_ROOT).parent / "test-artifacts"


def login_page(page, base: str, username: str, password: str = "pw") -> None:
    """Log ``page`` in through the login form; it lands on the dashboard."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


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


def learner_with_hours(
    username: str,
    hours: dict[str, float],
    *,
    passed: tuple[str, ...] | list[str] = (),
    cohort=None,
    role: str = "learner",
) -> User:
    """A user (password "pw") with ``hours`` of active time on each exercise (by slug; one ActivityDay
    row each, today), the exercises in ``passed`` passed and the others in ``hours`` attempted, and an
    enrolment in ``cohort`` (as a learner, or as staff for a course-staff ``role``)."""
    from django.utils import timezone

    from course.accounts.services import user_create
    from course.cohorts.models import Enrollment
    from course.curriculum.models import Exercise
    from course.progress.models import ActivityDay, ExerciseProgress

    user = user_create(username=username, role=role, password="pw")[0]
    exercises = {e.slug: e.id for e in Exercise.objects.filter(slug__in=[*hours, *passed])}
    today = timezone.now().date()
    ActivityDay.objects.bulk_create(
        ActivityDay(learner=user, exercise_id=exercises[slug], day=today, seconds=round(h * 3600), heartbeats=1)
        for slug, h in hours.items()
    )
    ExerciseProgress.objects.bulk_create(
        ExerciseProgress(
            learner=user,
            exercise_id=exercises[slug],
            state=ExerciseProgress.State.PASSED if slug in passed else ExerciseProgress.State.ATTEMPTED,
            best_score=1.0 if slug in passed else 0.0,
            max_score=1.0,
            attempts=1,
            passed_at=timezone.now() if slug in passed else None,
        )
        for slug in {*hours, *passed}
    )
    if cohort is not None:
        staff = role != "learner"
        Enrollment.objects.create(
            cohort=cohort, user=user, role=Enrollment.Role.STAFF if staff else Enrollment.Role.LEARNER
        )
    return user


def synthetic_exercise(slug: str, *, module: str = "numpy", points: float = 10):
    """A published exercise (a current version, no bundle on disk) in ``module``: statistics need no grading."""
    from course.curriculum.models import Exercise, ExerciseVersion, Module

    exercise = Exercise.objects.create(module=Module.objects.get(slug=module), slug=slug, title=slug, position=100)
    exercise.current_version = ExerciseVersion.objects.create(
        exercise=exercise,
        content_hash=slug.ljust(64, "0")[:64],
        title=slug,
        points=points,
        template={"cells": []},
        bundle_path="/nonexistent",
    )
    exercise.save(update_fields=["current_version"])
    return exercise


def enrolled_learners(cohort, count: int, prefix: str = "learner") -> list[User]:
    """``count`` learners (no usable password) enrolled in ``cohort``, in order of their names."""
    from course.cohorts.models import Enrollment

    users = User.objects.bulk_create(User(username=f"{prefix}-{n:04d}", role=User.Role.LEARNER) for n in range(count))
    users = list(User.objects.filter(username__startswith=f"{prefix}-").order_by("username"))
    Enrollment.objects.bulk_create(Enrollment(cohort=cohort, user=u, role=Enrollment.Role.LEARNER) for u in users)
    return users


def graded_submission(
    learner: User,
    exercise,
    tests: dict[str, bool] | None = None,
    *,
    passed: bool | None = None,
    at=None,
    version=None,
    regrade=None,
    regrade_of=None,
):
    """A graded submission as a worker would have stored it, without Docker: one TestResult row per entry
    of ``tests`` (name -> passed, a point each, the score their sum), or with no rows, full or no marks
    as ``passed`` says. ``at`` is its queued_at (submissions keep the order they are created in);
    ``version`` the exercise's current one unless given."""
    from course.submissions.models import Submission, TestResult

    if tests is not None:
        score, max_score = float(sum(tests.values())), float(len(tests))
    else:
        max_score = float(exercise.current_version.points)
        score = max_score if passed else 0.0
    submission = Submission.objects.create(
        learner=learner,
        exercise=exercise,
        version=version or exercise.current_version,
        notebook="submissions/none.ipynb",
        status=Submission.Status.GRADED,
        verdict="graded",
        score=score,
        max_score=max_score,
        regrade=regrade,
        regrade_of=regrade_of,
    )
    if at is not None:  # queued_at is set on creation; a history needs its own times
        Submission.objects.filter(id=submission.id).update(queued_at=at)
    TestResult.objects.bulk_create(
        TestResult(
            submission=submission,
            name=name,
            status="passed" if ok else "failed",
            score=1.0 if ok else 0.0,
            max_score=1.0,
            visibility="hidden",
        )
        for name, ok in (tests or {}).items()
    )
    return submission
