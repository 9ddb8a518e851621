"""One settings module for laptops, CI and production; everything that differs comes from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

from course.config.admission import grading_slots, warm_sandboxes_memory_mb
from course.config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[3]  # the repository root
VAR_DIR = Path(env_str("COURSE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the laptop defaults (SQLite file, media) live here

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto: requests that came in over https are
# known as such, so the addresses the site hands out (the notebook client's site and wheel) are
# https:// (the client refuses plain http elsewhere than localhost), and cookies travel over https only.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "course.accounts",
    "course.cohorts",
    "course.curriculum",
    "course.submissions",
    "course.progress",
    "course.web",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "course.config.security.ContentSecurityPolicyMiddleware",
    # Last: it turns a login refused for too many wrong passwords into a 429 with the reason.
    "axes.middleware.AxesMiddleware",
]

# Password guessing (django-axes): after AXES_FAILURE_LIMIT wrong passwords in a row for one
# account, or from one address, logins there are refused for AXES_COOLOFF_TIME (site, admin and
# API token alike); a right password resets the account's count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "course.accounts.lockout.lockout_response"

ROOT_URLCONF = "course.config.urls"
WSGI_APPLICATION = "course.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "course.web.context_processors.navigation",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the workers write to one file: wait for the lock instead of failing,
    # and let readers proceed while a writer works (WAL).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests share the file with the worker processes, so the test database is a file too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "course.config.api.CourseAutoSchema",
    "EXCEPTION_HANDLER": "course.config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "coursegrade API",
    "DESCRIPTION": "Autograded course platform: curriculum, submissions, progress and cohorts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from this project's static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery (Redis broker) ----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None  # results live in the database, not in Redis
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Admission control: by default a worker runs as many gradings at once as its cores and memory hold
# (course/config/admission.py); WORKER_CONCURRENCY (or celery's -c) overrides it. Each grading
# process also keeps warm sandboxes (SANDBOX_WARM_*, sandbox/pool.py), whose memory its slot holds.
GRADING_SLOT_CPUS = env_float("GRADING_SLOT_CPUS", 1.0)
GRADING_SLOT_MEMORY_MB = env_int("GRADING_SLOT_MEMORY_MB", 4096)
CELERY_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 0) or grading_slots(
    slot_cpus=GRADING_SLOT_CPUS, slot_memory_mb=GRADING_SLOT_MEMORY_MB + warm_sandboxes_memory_mb()
)
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Grading -------------------------------------------------------------------------------------
EXERCISES_DIR = Path(env_str("EXERCISES_DIR", str(BASE_DIR / "exercises")))
# The largest sandbox deadline a bundle may ask for (grader.limits.MAX_LIMITS.host_deadline_s is
# about 1,550 s); the task limit sits above it and the broker's visibility timeout above that, so a
# task is never redelivered while it is still running.
GRADING_TASK_TIME_LIMIT_S = env_int("GRADING_TASK_TIME_LIMIT_S", 1800)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": GRADING_TASK_TIME_LIMIT_S + 600}
# A submission queued or running longer than this is re-enqueued by the periodic job.
GRADING_STUCK_AFTER_S = env_int("GRADING_STUCK_AFTER_S", GRADING_TASK_TIME_LIMIT_S + 60)
GRADING_REQUEUE_EVERY_S = env_float("GRADING_REQUEUE_EVERY_S", 60.0)
GRADING_MAX_ATTEMPTS = env_int("GRADING_MAX_ATTEMPTS", 3)
# A grading whose time limit fired while the host was starved of CPU (SANDBOX_STARVED_STALL) is
# graded again, up to this many times; then its verdict stands, with a note saying why it may not be
# the learner's.
GRADING_STARVED_RETRIES = env_int("GRADING_STARVED_RETRIES", 2)
# Regrades running at once (one per exercise): a regrade is a burst that learners must not queue behind.
REGRADES_IN_FLIGHT = env_int("REGRADES_IN_FLIGHT", 2)
# A bundle upload still validating after this long lost its worker (a validation grades the reference
# and the template): it is validated again, at most this many times.
BUNDLE_VALIDATION_STUCK_AFTER_S = env_int("BUNDLE_VALIDATION_STUCK_AFTER_S", 2 * GRADING_TASK_TIME_LIMIT_S + 60)
BUNDLE_VALIDATION_MAX_ATTEMPTS = env_int("BUNDLE_VALIDATION_MAX_ATTEMPTS", 3)
# Where exercises with gpu = "optional" go: "cpu" until GPU workers exist.
GRADING_OPTIONAL_GPU_QUEUE = env_str("GRADING_OPTIONAL_GPU_QUEUE", "cpu")
SUBMISSIONS_PER_MINUTE = env_int("SUBMISSIONS_PER_MINUTE", 6)
# Uploads are checked against each exercise's own limit; this is the outer guard for Django.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 25 * 2**20
# Heartbeats closer together than this form one working session (time on task).
ACTIVITY_IDLE_CUTOFF_S = env_int("ACTIVITY_IDLE_CUTOFF_S", 300)
# A learner outside any cohort may reveal an exercise's solution after this many graded attempts (or
# once they passed it); a cohort sets its own rule (Cohort.solution_policy).
SOLUTION_AFTER_ATTEMPTS = env_int("SOLUTION_AFTER_ATTEMPTS", 3)
# The time report (/reports/time): a group of fewer learners than this shows no figures, so no learner's
# own time can be read from it; with that guard it is open to anyone unless TIME_REPORT_PUBLIC is off
# (then course staff only).
TIME_REPORT_MIN_GROUP = env_int("TIME_REPORT_MIN_GROUP", 5)
TIME_REPORT_PUBLIC = env_bool("TIME_REPORT_PUBLIC", True)
# How long the pages and the API reuse a computed report (seconds; 0 computes it on every request).
TIME_REPORT_CACHE_S = env_int("TIME_REPORT_CACHE_S", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
