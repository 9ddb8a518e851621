"""Platform fixtures: users, the loaded curriculum, a real Celery worker process (helpers: support.py)."""

from __future__ import annotations

import shutil

import pytest
import redis
from django.conf import settings

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment
from tests.platform.support import STARTED, Worker, load_course


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
