"""Platform fixtures: users, the loaded curriculum, a real Celery worker process (helpers: support.py)."""

from __future__ import annotations

import shutil

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from tests.platform.support import ARTIFACTS, CHROMIUM, STARTED, Worker, load_course


@pytest.fixture(scope="session", autouse=True)
def _clean_media_and_queue():
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    yield
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _no_cached_reports():
    # The process's cache (the shared time report) must not carry one test's figures into the next.
    cache.clear()


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
    return load_course(tmp_path / "exercises", settings, TEST_BUNDLES)


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


@pytest.fixture(scope="session", autouse=True)
def _no_stray_workers():
    """However a test ends, no worker it started outlives the session (it would take later tasks)."""
    yield
    for worker in STARTED:
        worker.kill()


@pytest.fixture
def worker(transactional_db, sandbox_settings):
    w = Worker(sandbox_settings.image).start()
    yield w
    w.stop()


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (pages: tests/platform/test_pages.py and others)."""
    import os
    from pathlib import Path

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/bootstrap.sh (apt-get install chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        # While Playwright's event loop runs, Django keeps this thread's connections apart from the
        # ones it had before (asgiref treats the thread as async): close those now, or PostgreSQL
        # refuses to drop the test database at the end of the session.
        from django.db import connections

        connections.close_all()
        browser.close()
