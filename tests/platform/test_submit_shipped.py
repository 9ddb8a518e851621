"""submit_shipped (what scripts/run.sh grades the demo with): late results warn, wrong ones fail, both
say how to retry.

The command talks to a real site (pytest-django's live server: the API, its database, its rules).
Only the worker is played by the test: a thread that gives each submission the outcome the test
chooses, writing the rows a worker writes, so that late, wrong and timed-out gradings happen on cue.
Real gradings through the queue and the sandbox are test_submission_flow.py's.
"""

from __future__ import annotations

import shutil
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from course.curriculum.models import Exercise
from course.submissions.management.commands import submit_shipped
from course.submissions.models import Submission

pytestmark = pytest.mark.django_db(transaction=True)
# The curriculum fixture's two exercises.
NUMPY, EINOPS = "normalize-rows", "causal-attention-pattern"
QUEUED = "queued"  # an outcome: the submission waits in the queue for ever (a busy machine)


def _kind(submission: Submission) -> str:
    if not submission.notebook:
        return "made by the test"
    with submission.notebook.open("rb") as f:
        sent = f.read()
    solution = Path(submission.version.bundle_path) / "solution.ipynb"
    return "reference" if sent == solution.read_bytes() else "template"


class PlayedWorker:
    """Gives each new submission its outcome: ``outcomes[(slug, kind)]`` is a list of (seconds after
    submission, changes to its row) steps; a missing pair is graded right (reference full, template 0)."""

    def __init__(self, outcomes: dict[tuple[str, str], list[tuple[float, dict]] | str]) -> None:
        self.outcomes = outcomes
        self.seen: dict[int, tuple[float, list]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PlayedWorker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def _steps(self, submission: Submission) -> list[tuple[float, dict]]:
        slug, kind = submission.exercise.slug, _kind(submission)
        outcome = self.outcomes.get((slug, kind))
        if outcome == QUEUED or kind == "made by the test":
            return []
        if outcome is None:
            score = submission.max_score if kind == "reference" else 0.0
            outcome = [(0.0, graded(score))]
        return list(outcome)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                for submission in Submission.objects.select_related("exercise", "version").exclude(
                    id__in=list(self.seen)
                ):
                    self.seen[submission.id] = (time.monotonic(), self._steps(submission))
                for sid, (at, steps) in self.seen.items():
                    while steps and time.monotonic() - at >= steps[0][0]:
                        Submission.objects.filter(id=sid).update(**steps.pop(0)[1])
                time.sleep(0.02)
        finally:
            connection.close()


def graded(score: float, verdict: str = "graded") -> dict:
    return {"status": "graded", "verdict": verdict, "score": score, "finished_at": timezone.now()}


def running(judging: bool = False) -> dict:
    return {"status": "running", "started_at": timezone.now(), "judging_at": timezone.now() if judging else None}


@pytest.fixture
def site(live_server, curriculum, instructor, monkeypatch):
    monkeypatch.setattr(submit_shipped, "POLL_S", 0.05)
    return live_server.url


def _run(url: str, *args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("submit_shipped", "--url", url, "--user", "ines", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_a_late_grading_warns_names_it_and_how_to_retry_and_does_not_fail(site):
    with PlayedWorker({(NUMPY, "reference"): QUEUED}):
        out, error = _run(site, "--timeout", "0.5")
    assert error is None, out
    assert f"warning numpy/{NUMPY} reference: still queued after" in out
    # The late reference's template is not sent: the site refuses a second submission in flight.
    assert f"warning numpy/{NUMPY} template: not submitted" in out
    assert Submission.objects.filter(exercise__slug=NUMPY).count() == 1
    late = Submission.objects.get(exercise__slug=NUMPY)
    assert f"(submission {site}/api/v1/submissions/{late.id})" in out
    # Only the late exercise is to be graded again (the einops one was as expected).
    assert f"manage.py submit_shipped --url {site} --user ines --exercise {NUMPY}\n" in out
    assert "the site is fine" in out


def test_a_reference_that_timed_out_warns_and_strict_fails_on_it(site):
    with PlayedWorker({(NUMPY, "reference"): [(0.0, graded(0.0, "timeout"))]}):
        out, error = _run(site, "--timeout", "5")
    assert error is None and f"warning numpy/{NUMPY} reference: the reference hit its time limit" in out
    with PlayedWorker({(NUMPY, "reference"): [(0.0, graded(0.0, "timeout"))]}):
        out, error = _run(site, "--timeout", "5", "--strict", "--exercise", NUMPY)
    assert error is not None and f"--exercise {NUMPY}" in out


def test_a_wrong_result_fails_with_the_reason_and_the_retry_command(site):
    outcomes = {
        (NUMPY, "reference"): [(0.0, running()), (0.2, running(judging=True)), (0.4, graded(5.0))],
        (EINOPS, "template"): [(0.0, graded(Exercise.objects.get(slug=EINOPS).current_version.points))],
    }
    with PlayedWorker(outcomes):
        out, error = _run(site, "--timeout", "5")
    assert error is not None and "2 submission(s) were not graded as expected" in str(error)
    max_score = Exercise.objects.get(slug=NUMPY).current_version.points
    assert f"FAILED  numpy/{NUMPY} reference: the reference got 5/{max_score:g} (graded) instead of full marks" in out
    assert f"FAILED  einops-einsum/{EINOPS} template: the template got full marks" in out
    assert f"--exercise {EINOPS} --exercise {NUMPY}" in out

    # The retry command grades only the exercises it names.
    before = Submission.objects.order_by("-id").values_list("id", flat=True).first()
    with PlayedWorker({}):
        out, error = _run(site, "--timeout", "5", "--exercise", NUMPY)
    assert error is None and "every reference got full marks and every template less" in out
    assert set(Submission.objects.filter(id__gt=before).values_list("exercise__slug", flat=True)) == {NUMPY}


def test_an_upload_refused_for_now_warns_and_one_refused_for_good_fails(site, instructor, tmp_path):
    from course.curriculum.services import exercise_publish

    # An earlier submission still in flight (an interrupted run's) is refused for now: 429.
    exercise = Exercise.objects.get(slug=NUMPY)
    Submission.objects.create(learner=instructor, exercise=exercise, version=exercise.current_version, max_score=1)
    with PlayedWorker({(NUMPY, "reference"): QUEUED}):
        out, error = _run(site, "--timeout", "5", "--exercise", EINOPS, "--exercise", NUMPY)
    assert error is None and f"warning numpy/{NUMPY} reference: not submitted: your previous submission" in out, out
    Submission.objects.all().delete()

    # A notebook above the exercise's size limit is refused for good: 413, a failure.
    small = tmp_path / "numpy" / NUMPY
    shutil.copytree(exercise.current_version.bundle_path, small)
    toml = small / "exercise.toml"
    toml.write_text(toml.read_text().replace("[limits]", "[limits]\nmax_notebook_kb = 1", 1))
    exercise_publish(path=small)
    with PlayedWorker({}):
        out, error = _run(site, "--timeout", "5", "--exercise", NUMPY)
    assert error is not None and f"FAILED  numpy/{NUMPY} reference: not submitted: the notebook is" in out


def test_the_wait_lasts_while_the_queue_moves(site):
    # The numpy reference waits in the queue for longer than the window, but the einops reference
    # moves all the while (a stage change every 0.1 s): nothing is given up.
    points = {slug: Exercise.objects.get(slug=slug).current_version.points for slug in (NUMPY, EINOPS)}
    moving = [(0.1 * i, running(judging=i % 2 == 1)) for i in range(12)]
    outcomes = {
        (NUMPY, "reference"): [(1.5, running()), (1.6, graded(points[NUMPY]))],
        (EINOPS, "reference"): [*moving, (1.3, graded(points[EINOPS]))],
    }
    started = time.monotonic()
    with PlayedWorker(outcomes):
        out, error = _run(site, "--timeout", "0.4")
    assert error is None and "every reference got full marks and every template less" in out, out
    assert time.monotonic() - started > 1.5


def test_the_default_window_is_as_long_as_the_longest_grading(curriculum):
    """Without --timeout, a grading is given up only after its sandbox deadline, both preloads and a margin."""
    from grader.bundle import load_bundle
    from sandbox.environment import load

    bundle = load_bundle(Exercise.objects.get(slug=NUMPY).current_version.bundle_path)
    preload_s = load(bundle.environment).preload_timeout_s
    # Longer than the sandbox may take (its deadline and both containers' preloads), and than the
    # fixed 300 s that gave up on references of a busy machine.
    assert submit_shipped._bound_s(bundle) > max(bundle.limits.host_deadline_s + 2 * preload_s, 300)
