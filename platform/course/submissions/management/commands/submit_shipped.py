"""Grade every shipped exercise's reference and template through the running site's API.

What is not as expected is listed at the end with the reason and the command that grades those
exercises again. Two kinds are told apart: a *warning* is what a busy machine causes (a
submission still queued or running when the wait ended, a reference that hit its time limit in
the sandbox, an upload the site refused for now because an earlier submission of the exercise is
still in flight); a *failure* is a result that is wrong however long one waits (a reference
without full marks, a template with them, a grading error, an upload refused for another reason).
Only failures make the exit status 1, unless ``--strict``.

The wait follows the queue rather than a clock per submission: it ends when every submission is
graded, or when none has moved (started, reached its tests, finished; or any submission on the
site finished, for a queue that is not only ours) for a window as long as the longest grading
still pending may take. So the whole wait grows with the number of submissions ahead, and a dead
worker is noticed after one such window.
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from course.accounts.models import User
from course.cli import Api, CliError
from course.curriculum.models import Exercise
from course.submissions.models import Submission
from grader.bundle import Bundle, load_bundle
from sandbox import environment

DEFAULT_USER = "demo-learner"  # made by seed_demo: staff, followed by the demo cohort as a learner
KINDS = ("reference", "template")
# Seconds between two rounds of asking the site about the submissions still pending.
POLL_S = 1.0
# On top of a grading's sandbox deadline and its environment's preloads: the worker's claim,
# creating, starting and removing the containers, storing the result.
MARGIN_S = 120.0
# The site's answers to an upload that say "not now": too many in flight, or overloaded.
BUSY_STATUSES = (429, 502, 503, 504)


@dataclass
class _Job:
    """One notebook of one exercise: its submission, its last state, and what is wrong with it, if anything."""

    exercise: Exercise
    kind: str
    # The longest its grading may take once a worker has it.
    bound_s: float
    submission_id: int | None = None
    started: float = 0.0
    body: dict[str, Any] | None = None
    problem: str = ""
    # The problem is one a busy machine causes: it is reported, it fails nothing (unless --strict).
    warning: bool = False

    @property
    def name(self) -> str:
        return f"{self.exercise.module.slug}/{self.exercise.slug}"

    @property
    def pending(self) -> bool:
        return self.submission_id is not None and (self.body is None or self.body["status"] in ("queued", "running"))


def _bound_s(bundle: Bundle) -> float:
    """How long one grading of ``bundle`` may take at most: the host's deadline, both preloads, a margin."""
    try:
        preload_s = environment.load(bundle.environment).preload_timeout_s
    except environment.DefinitionError:  # the worker's image decides; assume the longest allowed
        preload_s = 900.0
    return bundle.limits.host_deadline_s + 2 * preload_s + MARGIN_S


def _judge(job: _Job) -> None:
    """Set ``job.problem`` (and whether it is only a warning) from its finished submission's state."""
    body = job.body or {}
    score, max_score, verdict = body.get("score"), body.get("max_score"), body.get("verdict") or "-"
    if body.get("status") == "error":
        job.problem = f"the grading failed ({verdict})"
        return
    full = score is not None and score == max_score
    if job.kind == "template":
        if full:
            job.problem = "the template got full marks: its hidden tests pass without the learner's work"
        return
    if full:
        return
    if verdict == "timeout":
        job.problem, job.warning = "the reference hit its time limit in the sandbox (a busy machine does that)", True
    else:
        job.problem = f"the reference got {score or 0:g}/{max_score:g} ({verdict}) instead of full marks"


class Command(BaseCommand):
    help = (
        "POST each exercise's reference and template notebooks to a running site as a staff user, wait for "
        "the results through the API, and print a table, then what was not as expected and the command that "
        "grades those exercises again. Exit status 1 if a result is wrong; what only a busy machine explains "
        "(still queued or running when the wait ended, a reference's timeout, an upload refused for now) is a "
        "warning."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--user", default=DEFAULT_USER, help="a staff user (staff may submit to locked modules)")
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="give up on the submissions still pending when none has moved for this many seconds "
            "(default: as long as the longest of their gradings may take)",
        )
        parser.add_argument(
            "--exercise",
            action="append",
            default=[],
            metavar="SLUG",
            help="grade only this exercise (repeatable; default: every exercise)",
        )
        parser.add_argument("--strict", action="store_true", help="warnings (timeouts) make the exit status 1 too")

    def handle(self, *args, url, user, timeout, exercise, strict, **options):
        staff = User.objects.filter(username=user).first()
        if staff is None or not staff.is_course_staff:
            raise CommandError(f"{user!r} is not a staff user (run seed_demo)")
        api = Api(url, Token.objects.get_or_create(user=staff)[0].key)
        try:
            api.request("GET", "/healthz")
        except CliError as exc:
            raise CommandError(f"{exc} (is the site running at {url}?)") from exc
        exercises = list(Exercise.objects.select_related("current_version", "module").exclude(current_version=None))
        if exercise:
            unknown = sorted(set(exercise) - {e.slug for e in exercises})
            if unknown:
                raise CommandError(f"no such exercise: {', '.join(unknown)}")
            exercises = [e for e in exercises if e.slug in exercise]
        jobs = self._grade_all(api, exercises, timeout)
        self._report(jobs, url, user, strict)

    def _grade_all(self, api: Api, exercises: list[Exercise], timeout: float | None) -> list[_Job]:
        bundles = {e.slug: load_bundle(e.current_version.bundle_path) for e in exercises}
        self.stdout.write(
            f"\n{'exercise':42} {'notebook':10} {'status':8} {'verdict':16} {'score':>9} {'seconds':>8}  ok"
        )
        jobs: list[_Job] = []
        # One submission per exercise may be in flight: references first, then templates.
        for kind in KINDS:
            busy = {job.exercise.slug for job in jobs if job.pending}
            batch = [self._submit(api, bundles[e.slug], e, kind, busy) for e in exercises]
            self._wait(api, [job for job in batch if job.pending], timeout)
            jobs += batch
        return jobs

    def _submit(self, api: Api, bundle: Bundle, exercise: Exercise, kind: str, busy: set[str]) -> _Job:
        job = _Job(exercise, kind, _bound_s(bundle))
        if exercise.slug in busy:
            job.problem, job.warning = "not submitted: the exercise's reference was still being graded", True
            self._row(job)
            return job
        try:
            if kind == "reference":
                notebook = (bundle.path / "solution.ipynb").read_bytes()
            else:
                notebook = api.request("GET", f"/api/v1/exercises/{exercise.slug}/notebook")
            job.started = time.monotonic()
            path = f"/api/v1/exercises/{exercise.slug}/submissions"
            job.submission_id = api.upload(path, "notebook", f"{exercise.slug}.ipynb", notebook)["id"]
        except (CliError, OSError) as exc:  # a refused or failed upload is this exercise's problem only
            job.problem = f"not submitted: {exc}"
            # No answer, or "busy" ones (an earlier submission still in flight, say that of an
            # interrupted run): later it goes through. Any other refusal is this exercise's fault.
            job.warning = isinstance(exc, CliError) and exc.status in (None, *BUSY_STATUSES)
            self._row(job)
        return job

    def _wait(self, api: Api, pending: list[_Job], timeout: float | None) -> None:
        """Poll ``pending`` until each is finished or nothing has moved for the window (see the module's doc)."""
        stages: dict[int, str] = {}
        moved = time.monotonic()
        mark = timezone.now()
        while pending:
            for job in list(pending):
                try:
                    body = api.json("GET", f"/api/v1/submissions/{job.submission_id}")
                except CliError:  # a busy site may answer late: asked again in the next round
                    continue
                stage = body.get("stage") or body["status"]
                if stages.get(job.submission_id) != stage:
                    stages[job.submission_id], moved = stage, time.monotonic()
                job.body = body
                if not job.pending:
                    pending.remove(job)
                    _judge(job)
                    self._row(job)
            now = timezone.now()
            if Submission.objects.filter(finished_at__gte=mark).exists():  # the queue ahead of ours moves
                moved = time.monotonic()
            mark = now
            if not pending:
                return
            window = timeout if timeout is not None else max(job.bound_s for job in pending)
            if time.monotonic() - moved > window:
                break
            time.sleep(POLL_S)
        for job in pending:
            state = (job.body or {}).get("stage") or (job.body or {}).get("status") or "unknown"
            job.problem, job.warning = (
                f"still {state} after {time.monotonic() - job.started:.0f} s (the queue had not moved for "
                f"{time.monotonic() - moved:.0f} s); it may yet finish",
                True,
            )
            self._row(job)

    def _row(self, job: _Job) -> None:
        body = job.body or {}
        status = body.get("status") or "-"
        score = f"{body.get('score') or 0:4g}/{body['max_score']:<4g}" if body.get("max_score") is not None else "-"
        seconds = time.monotonic() - job.started if job.started else 0.0
        ok = "NO" if job.problem and not job.warning else "warn" if job.problem else "yes"
        self.stdout.write(
            f"{job.name:42} {job.kind:10} {status:8} {body.get('verdict') or '-':16} {score:>9} {seconds:8.2f}  {ok}"
        )

    def _report(self, jobs: list[_Job], url: str, user: str, strict: bool) -> None:
        problems = [job for job in jobs if job.problem]
        if not problems:
            self.stdout.write("\nevery reference got full marks and every template less")
            return
        failures = [job for job in problems if not job.warning]
        self.stdout.write(f"\n{len(problems)} of {len(jobs)} notebooks were not graded as expected:")
        for job in problems:
            where = f" (submission {url}/api/v1/submissions/{job.submission_id})" if job.submission_id else ""
            self.stdout.write(
                f"  {'warning' if job.warning else 'FAILED '} {job.name} {job.kind}: {job.problem}{where}"
            )
        slugs = sorted({job.exercise.slug for job in problems})
        self.stdout.write(
            "to grade these exercises again (once their submissions above have finished):\n  "
            + _command_line(url, user, slugs)
        )
        if failures or strict:
            raise CommandError(f"{len(failures or problems)} submission(s) were not graded as expected")
        self.stdout.write(
            self.style.WARNING(
                "only delays a busy machine causes (nothing was graded wrongly): the site is fine; "
                "grade them again with the command above when it is idle"
            )
        )


def _command_line(url: str, user: str, slugs: list[str]) -> str:
    """The shell command that runs this one again for ``slugs``, with paths as short as the directory allows."""

    def short(path: str | Path) -> str:
        try:
            return str(Path(path).relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    args = [short(sys.executable), short(Path(settings.BASE_DIR) / "manage.py"), "submit_shipped", "--url", url]
    if user != DEFAULT_USER:
        args += ["--user", user]
    for slug in slugs:
        args += ["--exercise", slug]
    return shlex.join(args)
