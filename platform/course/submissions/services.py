"""Writes for submissions: accept an upload, claim it in a worker, grade it, record the result."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from course.accounts.models import User
from course.config.celery import broker_queue_length, send_task
from course.curriculum.models import Exercise, ExerciseVersion, SandboxEnvironment
from course.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, TooLarge, Unavailable
from course.progress.selectors import require_open
from course.progress.services import activity_record, progress_record_grade
from course.submissions.models import Regrade, Submission, TestResult
from course.submissions.selectors import submissions_visible_to
from grader.bundle import BundleError, load_bundle
from grader.engine import DEFAULT_ENVIRONMENT
from grader.normalize import prepare
from grader.notebook import InvalidNotebook
from grader.result import GradeResult, Verdict, storable

log = logging.getLogger(__name__)
# Tasks are sent by name: the tasks module imports the services, never the other way round.
GRADE_SUBMISSION = "course.submissions.tasks.grade_submission"
REGRADE_FAN_OUT = "course.submissions.tasks.regrade_fan_out"
IN_FLIGHT = (Submission.Status.QUEUED, Submission.Status.RUNNING)


STARVED_NOTE = (
    "The grading machine was overloaded while your notebook ran, so this time limit may not be your "
    "code's: submit again later."
)


class InfrastructureError(Exception):
    """Grading could not run for reasons that are not the learner's (Docker, Redis): retry later."""


def queue_for(version: ExerciseVersion) -> str:
    """The queue of the workers that can grade ``version``: its hardware, then its environment
    (``cpu`` and ``gpu`` for base; ``cpu-mi``, ``gpu-mi`` for mi), so no worker gets an exercise
    whose environment it lacks."""
    if version.gpu == ExerciseVersion.Gpu.REQUIRED:
        queue = "gpu"
    elif version.gpu == ExerciseVersion.Gpu.OPTIONAL:
        queue = settings.GRADING_OPTIONAL_GPU_QUEUE
    else:
        queue = "cpu"
    return environment_queue(queue, version.environment)


def environment_queue(queue: str, environment: str) -> str:
    return queue if environment == DEFAULT_ENVIRONMENT else f"{queue}-{environment}"


def submission_create(*, learner: User, exercise_slug: str, notebook: UploadedFile) -> Submission:
    """Check and store an upload, then enqueue its grading once the row is committed."""
    exercise = Exercise.objects.select_related("current_version", "module").filter(slug=exercise_slug).first()
    if exercise is None:
        raise NotFound(f"there is no exercise {exercise_slug!r}")
    version = exercise.current_version
    if version is None:
        raise Conflict(f"exercise {exercise_slug!r} has no published version yet")
    require_open(learner=learner, exercise=exercise)
    _check_rate(learner, exercise)
    _check_environment(version)
    limits = load_bundle(version.bundle_path).limits
    if notebook.size > limits.max_notebook_kb * 1024:
        raise TooLarge(
            f"the notebook is {notebook.size / 1024:.0f} KB, above the limit of {limits.max_notebook_kb} KB; "
            "clear its outputs and submit again"
        )
    data = notebook.read()
    try:
        prepare(data, limits)  # as the engine will take it: Colab's metadata, a BOM...
    except InvalidNotebook as exc:
        raise Invalid(f"your notebook could not be read: {exc}") from exc
    submission = Submission(
        learner=learner,
        exercise=exercise,
        version=version,
        max_score=version.points,
        queue=queue_for(version),
        enqueued_at=timezone.now(),
    )
    submission.notebook.save("submission.ipynb", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            submission.save()
            activity_record(learner_id=learner.id, exercise_id=exercise.id, source="submission")
            transaction.on_commit(lambda: enqueue(submission))
    except IntegrityError:
        # Another request of this learner won the one-in-flight rule in the database meanwhile.
        submission.notebook.delete(save=False)
        raise _in_flight() from None
    return submission


def enqueue(submission: Submission) -> None:
    """Send the grading task; if the broker is down the row stays queued for the periodic re-enqueue."""
    from kombu.exceptions import OperationalError

    try:
        send_task(GRADE_SUBMISSION, submission.id, queue=submission.queue)
    except OperationalError:
        log.exception("could not enqueue submission %s; the periodic job will retry", submission.id)


def _check_environment(version: ExerciseVersion) -> None:
    """Every worker grades in base; another environment must have been registered by a worker."""
    if version.environment == DEFAULT_ENVIRONMENT:
        return
    if not SandboxEnvironment.objects.filter(name=version.environment).exists():
        raise Unavailable(
            f"no grader is set up for this exercise's environment {version.environment!r} yet, so it "
            "cannot be graded now; nothing was stored: please submit again later (staff can see this too)"
        )


def _in_flight() -> RateLimited:
    return RateLimited(
        "your previous submission of this exercise is still being graded; wait for its result", retry_after_s=5
    )


def _check_rate(learner: User, exercise: Exercise) -> None:
    mine = Submission.objects.filter(learner=learner, regrade=None)  # regrades are not the learner's
    if mine.filter(exercise=exercise, status__in=IN_FLIGHT).exists():
        raise _in_flight()
    if learner.is_course_staff:
        return  # staff check exercises in bulk; only the one-in-flight rule applies to them
    window = timezone.now() - timedelta(seconds=60)
    recent = list(mine.filter(queued_at__gte=window).order_by("queued_at").values_list("queued_at", flat=True))
    if len(recent) >= settings.SUBMISSIONS_PER_MINUTE:
        wait = math.ceil((recent[0] - window).total_seconds()) or 1
        raise RateLimited(
            f"at most {settings.SUBMISSIONS_PER_MINUTE} submissions a minute; try again in {wait} s",
            retry_after_s=wait,
        )


def submission_claim(*, submission_id: int, worker: str) -> Submission | None:
    """Take a queued submission for grading; None if another worker has it or it is done.

    A conditional UPDATE instead of a lock: whoever changes the row from queued wins, so a
    redelivered task finds nothing to do.
    """
    claimed = _transition(
        submission_id,
        expect={"status": Submission.Status.QUEUED},
        status=Submission.Status.RUNNING,
        started_at=timezone.now(),
        worker=worker[:200],
        attempts=F("attempts") + 1,
    )
    return Submission.objects.select_related("version").get(id=submission_id) if claimed else None


def submission_grade(*, submission_id: int, worker: str) -> Submission | None:
    """Claim, grade in the sandbox, record. Learner failures are results; infrastructure raises."""
    import docker.errors
    import requests.exceptions

    from grader.engine import grade

    submission = submission_claim(submission_id=submission_id, worker=worker)
    if submission is None:
        log.info("submission %s is not queued any more; nothing to do", submission_id)
        return None
    try:
        with submission.notebook.open("rb") as f:
            data = f.read()
    except FileNotFoundError:
        # Gone from storage: no retry brings it back, so say so now instead of retrying for half an hour.
        log.error("submission %s: its notebook file %s is missing", submission_id, submission.notebook.name)
        result = GradeResult.failure(
            Verdict.INTERNAL_ERROR,
            "Could not grade: the stored notebook of this submission is missing. Please submit again.",
            max_score=submission.max_score,
        )
        return submission_record(submission=submission, result=result)
    try:
        result = grade(submission.version.bundle_path, data, on_stage=_stage_recorder(submission))
    except BundleError as exc:
        log.error("submission %s: the stored bundle is broken: %s", submission_id, exc)
        result = GradeResult.failure(
            Verdict.INTERNAL_ERROR,
            "Could not grade: this exercise is misconfigured. Staff have been told.",
            max_score=submission.max_score,
        )
    except (docker.errors.DockerException, requests.exceptions.ConnectionError, OSError) as exc:
        submission_release(submission=submission)
        raise InfrastructureError(f"could not grade submission {submission_id}: {exc}") from exc
    if result.starved:
        if submission.attempts <= settings.GRADING_STARVED_RETRIES:
            # A time limit fired on a host too busy to give the notebook its CPU: the machine's fault.
            submission_release(submission=submission)
            stall = result.timings.get("host_cpu_stall", 0.0)
            raise InfrastructureError(f"submission {submission_id} timed out on a starved host (CPU stall {stall:.0%})")
        result = dataclasses.replace(result, output=f"{STARVED_NOTE} {result.output}".strip())
    return submission_record(submission=submission, result=result)


def _stage_recorder(submission: Submission):
    """The engine's stage callback: marks the claimed submission as judging, for its live status."""

    def record(stage: str) -> None:
        if stage != "judging":
            return
        try:
            _transition(submission.id, expect=_running(submission), judging_at=timezone.now())
        except Exception:  # a courtesy to the learner; the grading itself must go on
            log.warning("could not mark submission %s as judging", submission.id, exc_info=True)
        finally:
            connections.close_all()  # this runs in the engine's thread, which has its own connection

    return record


def submission_release(*, submission: Submission) -> None:
    """Give a claimed submission back to the queue (its grading could not run)."""
    _transition(
        submission.id, expect=_running(submission), status=Submission.Status.QUEUED, started_at=None, judging_at=None
    )


@transaction.atomic
def submission_record(*, submission: Submission, result: GradeResult) -> Submission | None:
    """Store the result, its per-test rows and the learner's progress, exactly once."""
    now = timezone.now()
    status = Submission.Status.ERROR if result.verdict == Verdict.INTERNAL_ERROR else Submission.Status.GRADED
    stored = _transition(
        submission.id,
        expect=_running(submission),
        status=status,
        verdict=str(result.verdict),
        score=result.score,
        max_score=result.max_score,
        result=result.to_dict(),
        finished_at=now,
        environment=result.environment,
        image=result.image,
    )
    if not stored:
        log.warning("submission %s changed while it was graded; this result is dropped", submission.id)
        return None
    # Cleaned again here: whatever built the result, the database must accept every row.
    TestResult.objects.bulk_create(
        TestResult(submission_id=submission.id, **storable(asdict(t), non_finite=0.0)) for t in result.tests
    )
    if status == Submission.Status.GRADED:
        progress_record_grade(
            learner_id=submission.learner_id,
            exercise_id=submission.exercise_id,
            score=result.score,
            max_score=result.max_score,
            at=now,
            attempt=submission.regrade_id is None,
        )
    submission.refresh_from_db()
    return submission


def submission_fail(*, submission_id: int, message: str) -> None:
    """Give up on a submission (retries exhausted); the learner sees why."""
    submission = Submission.objects.filter(id=submission_id).first()
    if submission is None:
        return
    result = GradeResult.failure(Verdict.INTERNAL_ERROR, f"Could not grade: {message}.", max_score=submission.max_score)
    _transition(
        submission_id,
        expect={"status__in": IN_FLIGHT},
        status=Submission.Status.ERROR,
        verdict=str(result.verdict),
        score=0.0,
        result=result.to_dict(),
        finished_at=timezone.now(),
    )


def _transition(submission_id: int, *, expect: dict, **changes) -> bool:
    """The one way a submission's row changes: a conditional UPDATE that applies only while the row is
    as ``expect`` says. Whoever changes it first wins; a late, repeated or redelivered actor changes
    nothing and is told so (False)."""
    return bool(Submission.objects.filter(id=submission_id, **expect).update(**changes))


def _running(submission: Submission) -> dict:
    """The claim ``submission`` holds: running, in this attempt (a later claim makes it stale)."""
    return {"status": Submission.Status.RUNNING, "attempts": submission.attempts}


def requeue_stuck(*, now=None) -> int:
    """Re-enqueue submissions whose grading was lost; returns how many were sent again.

    A worker that died mid-grading leaves its submission running past GRADING_STUCK_AFTER_S; it goes
    back to queued (its place in the queue, ``queued_at``, unchanged) and gets a new task. After
    GRADING_MAX_ATTEMPTS claims it is failed with a message instead. A queued submission is sent again
    only when its last task is older than the deadline *and* its broker queue is empty: a long backlog
    is waiting, not lost, and gets no duplicates.
    """
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.GRADING_STUCK_AFTER_S)
    count = 0
    for sub in Submission.objects.filter(status=Submission.Status.RUNNING, started_at__lt=limit):
        if sub.attempts >= settings.GRADING_MAX_ATTEMPTS:
            submission_fail(submission_id=sub.id, message=f"grading failed {sub.attempts} times; staff have been told")
            log.error("submission %s failed %s gradings; given up", sub.id, sub.attempts)
            continue
        if _transition(
            sub.id,
            expect=_running(sub),
            status=Submission.Status.QUEUED,
            started_at=None,
            judging_at=None,
            enqueued_at=now,
        ):
            enqueue(sub)
            count += 1
    stale = Submission.objects.filter(status=Submission.Status.QUEUED).filter(
        Q(enqueued_at__lt=limit) | Q(enqueued_at=None, queued_at__lt=limit)
    )
    waiting: dict[str, int] = {}
    for sub in stale.order_by("queued_at"):
        if sub.queue not in waiting:
            waiting[sub.queue] = broker_queue_length(sub.queue)
        if waiting[sub.queue]:
            continue  # tasks are still waiting in that queue: a backlog, not a loss
        # Guarded on the enqueue time it was read with: two beats at once send one task, not two.
        if _transition(
            sub.id, expect={"status": Submission.Status.QUEUED, "enqueued_at": sub.enqueued_at}, enqueued_at=now
        ):
            enqueue(sub)
            count += 1
    return count


@transaction.atomic
def regrade_start(*, exercise_slug: str, requested_by: User) -> Regrade:
    """Grade again, against the exercise's current version, every submission the requester may see:
    an instructor's cohorts' learners, everyone's for organisers.

    Each original keeps its result (history); the copies are new submissions linked to it. The
    learners' best scores are never lowered; the regrade's status lists whose score went down. One
    regrade of an exercise runs at a time, and at most ``REGRADES_IN_FLIGHT`` in all: a regrade is a
    burst of gradings that learners' own submissions must not wait behind for long.
    """
    if not requested_by.is_course_staff:
        raise Forbidden("only instructors and admins may regrade")
    # The exercise row is locked so two requests cannot both pass the checks below.
    exercise = (
        Exercise.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .filter(slug=exercise_slug)
        .first()
    )
    if exercise is None or exercise.current_version is None:
        raise NotFound(f"there is no exercise {exercise_slug!r}")
    running = Regrade.objects.filter(submissions__status__in=IN_FLIGHT).distinct()
    same = running.filter(exercise=exercise).first()
    if same is not None:
        raise Conflict(f"regrade #{same.id} of {exercise_slug!r} is still running; wait for it to finish")
    if running.count() >= settings.REGRADES_IN_FLIGHT:
        raise RateLimited(
            f"{settings.REGRADES_IN_FLIGHT} regrades are running; try again when one has finished", retry_after_s=60
        )
    version = exercise.current_version
    originals = submissions_visible_to(requested_by).filter(
        exercise=exercise, regrade_of=None, regrade=None, status__in=[Submission.Status.GRADED, Submission.Status.ERROR]
    )
    originals = list(originals)
    regrade = Regrade.objects.create(
        exercise=exercise, version=version, requested_by=requested_by, total=len(originals)
    )
    Submission.objects.bulk_create(
        Submission(
            learner_id=original.learner_id,
            exercise=exercise,
            version=version,
            notebook=original.notebook.name,
            max_score=version.points,
            queue=queue_for(version),
            regrade=regrade,
            regrade_of=original,
            enqueued_at=timezone.now(),
        )
        for original in originals
    )
    transaction.on_commit(lambda: send_task(REGRADE_FAN_OUT, regrade.id, queue="cpu"))
    return regrade


def regrade_enqueue_all(*, regrade_id: int) -> int:
    """Enqueue one grading task per copy (the fan-out, run in a worker)."""
    copies = list(Submission.objects.filter(regrade_id=regrade_id, status=Submission.Status.QUEUED))
    for copy in copies:
        enqueue(copy)
    return len(copies)


def warm_sandboxes_start() -> int:
    """Give this grading process its pool of warm sandboxes (SANDBOX_WARM_*), expecting the shapes of
    the published exercises it can grade, the commonest first; how many shapes. Called once per
    worker process; a pool stays off where the settings turn it off."""
    from collections import Counter

    from grader.engine import EngineSettings, EnvironmentUnavailable, GpuUnavailable, WrongImage, sandbox_job
    from sandbox import pool
    from sandbox.driver import ImageMissing

    sandboxes = pool.install(pool.PoolSettings.from_env())
    if sandboxes is None:
        return 0
    engine = EngineSettings.from_env()
    shapes: Counter = Counter()
    versions = ExerciseVersion.objects.filter(exercise__current_version_id=F("id"))
    for path in versions.values_list("bundle_path", flat=True):
        try:
            bundle = load_bundle(path)
            shapes[(sandbox_job(bundle, engine, b"").shape, bundle.environment)] += 1
        except (BundleError, OSError, GpuUnavailable, EnvironmentUnavailable, WrongImage, ImageMissing):
            continue  # graded elsewhere, or not at all: nothing to keep warm for it here
    for (shape, environment), _ in shapes.most_common():
        sandboxes.expect(shape, environment)
    return len(shapes)


def warm_sandboxes_stop() -> None:
    """Remove this process's warm sandboxes (its shutdown; a killed one's are the reaper's)."""
    from sandbox import pool

    pool.uninstall()
