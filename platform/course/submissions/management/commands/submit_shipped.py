"""Grade every shipped exercise's reference and template through the running site's API."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from course.accounts.models import User
from course.cli import Api, CliError
from course.curriculum.models import Exercise
from grader.bundle import load_bundle


class Command(BaseCommand):
    help = (
        "POST each exercise's reference and template notebooks to a running site as a staff user, wait for "
        "the results through the API, and print a table. Exit status 1 if any result is not as expected."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--user", default="instructor", help="a staff user (staff may submit to locked modules)")
        parser.add_argument("--timeout", type=float, default=300)

    def handle(self, *args, url, user, timeout, **options):
        try:
            self._grade_all(url, user, timeout)
        except CliError as exc:  # the site is down or answered with an error
            raise CommandError(f"{exc} (is the site running at {url}?)") from exc

    def _grade_all(self, url: str, user: str, timeout: float) -> None:
        staff = User.objects.filter(username=user).first()
        if staff is None or not staff.is_course_staff:
            raise CommandError(f"{user!r} is not a staff user (run seed_demo)")
        token = Token.objects.get_or_create(user=staff)[0].key
        api = Api(url, token)
        exercises = list(Exercise.objects.select_related("current_version", "module").exclude(current_version=None))
        notebooks = {}
        for exercise in exercises:
            bundle = load_bundle(exercise.current_version.bundle_path)
            notebooks[exercise.slug] = {
                "reference": (bundle.path / "solution.ipynb").read_bytes(),
                "template": api.request("GET", f"/api/v1/exercises/{exercise.slug}/notebook"),
            }
        self.stdout.write(
            f"\n{'exercise':42} {'notebook':10} {'status':8} {'verdict':16} {'score':>9} {'seconds':>8}  ok"
        )
        failures = 0
        # One submission per exercise may be in flight: references first, then templates.
        for kind in ("reference", "template"):
            jobs = [
                (
                    e,
                    time.monotonic(),
                    api.upload(
                        f"/api/v1/exercises/{e.slug}/submissions",
                        "notebook",
                        f"{e.slug}.ipynb",
                        notebooks[e.slug][kind],
                    )["id"],
                )
                for e in exercises
            ]
            for exercise, started, submission_id in jobs:
                body = api.wait(submission_id, timeout, poll_s=0.1)
                full = body["score"] is not None and body["score"] == body["max_score"]
                ok = body["status"] == "graded" and (full if kind == "reference" else not full)
                failures += not ok
                self.stdout.write(
                    f"{exercise.module.slug + '/' + exercise.slug:42} {kind:10} {body['status']:8} "
                    f"{body['verdict']:16} {body['score'] or 0:4g}/{body['max_score']:<4g} "
                    f"{time.monotonic() - started:8.2f}  {'yes' if ok else 'NO'}"
                )
        if failures:
            raise CommandError(f"{failures} submission(s) were not graded as expected")
        self.stdout.write("\nevery reference got full marks and every template less")
