"""Benchmark: server time of the cohort dashboard, the time report and the item statistics at scale.

    .venv/bin/python bench/cohort.py [--learners 1000] [--submissions 20] [--exercises 40]

Builds, in a fresh SQLite database under var/bench-cohort/ (or the one in DATABASE_URL), a cohort of
``--learners`` on synthetic exercises (the dashboard's worst case: every learner on every module),
and a second one of as many synthetic learners with weeks of history on the real curriculum
(cohorts/demo_learners.py: per-test results, hints and solutions, modules tested out of), then times
each page and export through Django's test client (the whole request cycle, no network), median of
5, and counts their SQL queries. The time report and the statistics aim at under 300 ms. The time
report's rows are computed each time (the shared report cleared before each request); one more row
shows a request that reuses it (TIME_REPORT_CACHE_S).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-cohort"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--exercises", type=int, default=40)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        shutil.rmtree(VAR, ignore_errors=True)
        VAR.mkdir(parents=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from course.accounts.services import user_create
    from course.cohorts import demo_learners
    from course.cohorts.demo_data import build
    from course.cohorts.models import Cohort, Enrollment

    call_command("migrate", verbosity=0)
    call_command("load_curriculum", stdout=open(os.devnull, "w"))
    started = time.perf_counter()
    cohort = build(learners=args.learners, exercises=args.exercises, submissions_per_learner=args.submissions)
    print(
        f"built {args.learners} learners x {args.submissions} submissions on {args.exercises} exercises "
        f"in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    history = Cohort.objects.create(name="Bench cohort with history")
    demo_learners.populate(history, count=args.learners, seed=1)
    print(f"built {args.learners} learners with weeks of history in {time.perf_counter() - started:.1f} s")
    staff = user_create(username=f"bench-staff-{cohort.id}", role="instructor", password="pw")[0]
    Enrollment.objects.create(cohort=cohort, user=staff, role=Enrollment.Role.STAFF)
    Enrollment.objects.create(cohort=history, user=staff, role=Enrollment.Role.STAFF)
    client = Client()
    client.force_login(staff)
    print(f"{'request':36}{'median ms':>10}{'queries':>9}")
    for name, url, computed in (
        ("cohort dashboard page", f"/cohorts/{cohort.id}/", False),
        ("cohort progress CSV", f"/api/v1/cohorts/{cohort.id}/progress?format=csv", False),
        ("cohort page export (zip of CSVs)", f"/api/v1/cohorts/{cohort.id}/dashboard?format=zip", False),
        ("history cohort page", f"/cohorts/{history.id}/", False),
        ("time report page (all cohorts)", "/reports/time", True),
        ("time report CSV", "/api/v1/reports/time?format=csv", True),
        ("time report API, one cohort", f"/api/v1/reports/time?cohort={history.id}", True),
        ("time report page, reused", "/reports/time", False),
        ("exercise statistics page", "/staff/exercises/normalize-rows/", False),
        ("exercise statistics API", "/api/v1/exercises/normalize-rows/statistics", False),
        ("exercise statistics CSV", "/api/v1/exercises/gpt2-from-scratch/statistics?format=csv", False),
    ):
        client.get(url)  # warm caches
        times = []
        for _ in range(5):
            if computed:
                cache.clear()
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        print(f"{name:36}{statistics.median(times):10.0f}{len(queries):9}")


if __name__ == "__main__":
    main()
