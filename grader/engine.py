"""The grading engine: ``bundle + notebook -> GradeResult``. No Django; used by the CLI, the worker and tests."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.bundle import Bundle, content_files, load_bundle
from grader.host_load import CpuStallClock
from grader.imports import imported_modules, preload_for
from grader.normalize import prepare
from grader.notebook import InvalidNotebook
from grader.result import GradeResult, ReportError, Verdict, parse_cells, parse_tests

if TYPE_CHECKING:
    from sandbox.driver import SandboxJob

log = logging.getLogger(__name__)


class GpuUnavailable(RuntimeError):
    """The exercise requires a GPU and this worker has none."""


class EnvironmentUnavailable(RuntimeError):
    """The exercise's environment is not one this worker grades in, or its image is missing."""


class WrongImage(RuntimeError):
    """The image this worker has for an environment was built for another one."""


DEFAULT_ENVIRONMENT = "base"


@dataclass(frozen=True)
class EngineSettings:
    """How this worker grades; from the environment by default (DESIGN.md, Settings)."""

    # The image of the base environment.
    image: str
    gpu_devices: tuple[str, ...] = ()
    # Remove leftovers of dead gradings at most this often (seconds).
    reap_interval_s: float = 60.0
    # The images of the other environments this worker grades in: name -> tag.
    environments: Mapping[str, str] = field(default_factory=dict)
    # A grading that hit a time limit while the host's CPU stall (grader/host_load.py) was at least
    # this share of its wall time is marked starved: graded again, not a verdict.
    starved_stall: float = 0.6

    @classmethod
    def from_env(cls) -> EngineSettings:
        """``SANDBOX_ENVIRONMENTS`` (default: every environment of this checkout) names what this
        worker grades in; ``SANDBOX_IMAGE`` is the base image and ``SANDBOX_IMAGE_<NAME>`` another's
        (default: the tag built from this checkout, of ``SANDBOX_VARIANT``, default cpu)."""
        from sandbox import environment
        from sandbox.image import image_tag

        variant = os.environ.get("SANDBOX_VARIANT", "cpu")
        wanted = os.environ.get("SANDBOX_ENVIRONMENTS", "").strip()
        names = [n.strip() for n in wanted.split(",") if n.strip()] if wanted else environment.available()
        others = {
            name: os.environ.get(image_variable(name)) or image_tag(name, variant)
            for name in names
            if name != DEFAULT_ENVIRONMENT
        }
        devices = os.environ.get("SANDBOX_GPU_DEVICES", "").strip()
        return cls(
            image=os.environ.get("SANDBOX_IMAGE") or image_tag(DEFAULT_ENVIRONMENT, variant),
            gpu_devices=tuple(d.strip() for d in devices.split(",") if d.strip()),
            environments=others,
            starved_stall=float(os.environ.get("SANDBOX_STARVED_STALL", "0.6")),
        )

    @property
    def images(self) -> dict[str, str]:
        """Every environment this worker grades in, with its image."""
        return {DEFAULT_ENVIRONMENT: self.image, **self.environments}

    def image_for(self, environment: str) -> str:
        image = self.images.get(environment)
        if image is None:
            raise EnvironmentUnavailable(
                f"this exercise runs in the {environment!r} environment and this grader has only "
                f"{', '.join(sorted(self.images))}; it must be graded by a worker that has {environment!r}"
            )
        return image


def image_variable(environment: str) -> str:
    """The setting that names the image of ``environment`` (SANDBOX_IMAGE_MI for ``mi``)."""
    return "SANDBOX_IMAGE_" + environment.upper().replace("-", "_")


_last_reap = 0.0


def _reap_now_and_then(settings: EngineSettings) -> None:
    global _last_reap
    if time.monotonic() - _last_reap < settings.reap_interval_s:
        return
    _last_reap = time.monotonic()
    from sandbox.driver import reap_stale

    try:
        reap_stale()
    except Exception:  # a failed clean-up must not fail a grading; it is retried later
        log.exception("could not remove leftover sandbox objects")


def grade(
    bundle: Bundle | str | Path,
    notebook: bytes,
    settings: EngineSettings | None = None,
    *,
    on_stage: Callable[[str], None] | None = None,
) -> GradeResult:
    """Grade ``notebook`` (the raw .ipynb bytes) against ``bundle`` in the Docker sandbox.

    Learner mistakes and sandbox failures alike come back as a GradeResult with a verdict;
    only a broken bundle (BundleError) or an unreachable Docker daemon raises. ``on_stage`` is
    called, from another thread, with "judging" when the notebook has run and the tests start.
    """
    from sandbox import driver, pool

    started = time.monotonic()
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    settings = settings or EngineSettings.from_env()
    limits = bundle.limits
    try:
        prepared = prepare(notebook, limits)
    except InvalidNotebook as exc:
        return GradeResult.failure(
            Verdict.INVALID_NOTEBOOK, f"Your notebook could not be read: {exc}.", max_score=bundle.points
        )
    image = settings.images.get(bundle.environment, "")
    try:
        job = sandbox_job(bundle, settings, json.dumps(prepared.notebook).encode(), on_stage=on_stage)
    except (GpuUnavailable, EnvironmentUnavailable) as exc:
        return GradeResult.failure(
            Verdict.INTERNAL_ERROR, f"Could not grade: {exc}.", max_score=bundle.points
        ).with_environment(bundle.environment, "")
    except WrongImage as exc:
        return GradeResult.failure(
            Verdict.INTERNAL_ERROR, f"Could not grade: {exc}.", max_score=bundle.points
        ).with_environment(bundle.environment, image)
    except driver.ImageMissing as exc:
        return GradeResult.failure(
            Verdict.INTERNAL_ERROR,
            f"Could not grade: the {bundle.environment!r} environment's image is not built on this grader ({exc}).",
            max_score=bundle.points,
        ).with_environment(bundle.environment, image)
    device = job.device
    _reap_now_and_then(settings)
    sandboxes = pool.installed()
    pair = sandboxes.take(job.shape, bundle.environment) if sandboxes is not None else None
    clock = CpuStallClock.read()
    try:
        outcome = driver.run(job, pair)
    finally:
        if pair is not None and sandboxes is not None:
            sandboxes.done(pair)
    result = assemble(bundle, outcome, time.monotonic() - started, device)
    result = judge_host_load(result, CpuStallClock.read().stall_since(clock), settings.starved_stall)
    return dataclasses.replace(result, notebook_changes=list(prepared.changes)).with_environment(
        bundle.environment, image
    )


def sandbox_job(
    bundle: Bundle, settings: EngineSettings, notebook: bytes, *, on_stage: Callable[[str], None] | None = None
) -> SandboxJob:
    """The sandbox job that grades ``notebook`` (cleaned, as JSON) against ``bundle`` on this worker.

    Raises GpuUnavailable, EnvironmentUnavailable, WrongImage or driver.ImageMissing when it cannot
    be graded here. With an empty notebook, its ``shape`` is the pair a warm pool keeps for the bundle.
    """
    from sandbox import driver

    device, device_ids = _device_for(bundle, settings)
    image = settings.image_for(bundle.environment)
    described = driver.environment_of(image)
    if described.name != bundle.environment:
        # A misconfigured SANDBOX_IMAGE_<NAME>: never grade in the wrong image.
        raise WrongImage(f"this grader's image for {bundle.environment!r} is the {described.name!r} environment")
    data = bundle.data_map()
    tests = {p.relative_to(bundle.path).as_posix(): p for p in content_files(bundle.tests_dir)}
    return driver.SandboxJob(
        image=image,
        notebook=notebook,
        kernel_files=data,
        judge_files=tests | {f"data/{name}": path for name, path in data.items()},
        limits=bundle.limits,
        device=device,
        gpu_device_ids=device_ids,
        on_stage=on_stage,
        preload=preload_for(described.heavy_modules, imported_modules(bundle)),
        preload_timeout_s=described.preload_timeout_s,
        codecs=described.codecs + bundle.codecs,
    )


def judge_host_load(result: GradeResult, stall: float | None, threshold: float) -> GradeResult:
    """Record the host's CPU stall over the grading, and mark as starved a result whose time limits
    fired while the host was oversubscribed: wall-clock limits then measure the machine."""
    if stall is None:
        return result
    timings = result.timings | {"host_cpu_stall": round(stall, 3)}
    hit_limit = (
        result.verdict == Verdict.TIMEOUT
        or any(t.status == "timeout" for t in result.tests)
        or any(c.status == "timeout" for c in result.cells)
    )
    return dataclasses.replace(result, timings=timings, starved=hit_limit and stall >= threshold)


def _device_for(bundle: Bundle, settings: EngineSettings) -> tuple[str, tuple[str, ...]]:
    if bundle.gpu == "none" or not settings.gpu_devices:
        if bundle.gpu == "required":
            raise GpuUnavailable(
                "this exercise needs a GPU and this grader has none; it will be graded by a GPU worker"
            )
        return "cpu", ()
    return "cuda", settings.gpu_devices


def assemble(bundle: Bundle, outcome: Any, elapsed: float, device: str) -> GradeResult:
    """Turn what the sandbox saw into the learner's result; the verdict comes from trusted facts first."""
    limits = bundle.limits
    timings = _stage_timings(outcome)
    report = outcome.report
    base = {"max_score": bundle.points, "execution_time": round(elapsed, 3), "timings": timings, "device": device}
    if outcome.timed_out:
        return GradeResult(
            score=0.0,
            verdict=Verdict.TIMEOUT,
            tests=[],
            output=(
                f"Grading was stopped after {limits.host_deadline_s:.0f} s: "
                "your notebook or your functions ran too long."
            ),
            **base,
        )
    if report is None:
        if outcome.judge_oom:
            return GradeResult(
                score=0.0,
                verdict=Verdict.MEMORY_EXCEEDED,
                output=("Checking your results used too much memory: return smaller values."),
                **base,
            )
        log.error("judge gave no report (exit %s): %s", outcome.judge_exit, outcome.judge_stderr)
        return GradeResult(
            score=0.0,
            verdict=Verdict.INTERNAL_ERROR,
            output="Could not grade: the grader failed. Staff have been told.",
            **base,
        )
    try:
        tests = parse_tests(report.get("tests"), max_chars=limits.max_output_chars)
    except ReportError as exc:
        log.error("judge report is malformed: %s", exc)
        return GradeResult(
            score=0.0,
            verdict=Verdict.INTERNAL_ERROR,
            output="Could not grade: the grader failed. Staff have been told.",
            **base,
        )
    kernel = report.get("kernel") if isinstance(report.get("kernel"), dict) else {}
    cells = parse_cells(kernel.get("cells"), max_chars=limits.max_output_chars)
    if report.get("collect_errors") or not tests:
        log.error("bundle %s tests did not load: %s", bundle.slug, report.get("collect_errors"))
        return GradeResult(
            score=0.0,
            verdict=Verdict.INTERNAL_ERROR,
            cells=cells,
            output=("Could not grade: this exercise's tests failed to load. Staff have been told."),
            **base,
        )
    verdict, message = _verdict(outcome, kernel, report, cells)
    score = sum(t.score for t in tests)
    max_score = sum(t.max_score for t in tests)
    unmarked = [t.get("name") for t in report["tests"] if isinstance(t, dict) and t.get("points_marked") is False]
    return GradeResult(
        score=round(score, 6),
        verdict=verdict,
        tests=tests,
        cells=cells,
        output=message,
        authoring={"tests_without_points": unmarked},
        **(base | {"max_score": max_score}),
    )


def _verdict(outcome: Any, kernel: dict[str, Any], report: dict[str, Any], cells: list[Any]) -> tuple[Verdict, str]:
    status = kernel.get("status")
    if outcome.kernel_oom:
        return (
            Verdict.MEMORY_EXCEEDED,
            "Your notebook ran out of memory and was stopped; results are from what ran before.",
        )
    if outcome.judge_oom:
        return Verdict.MEMORY_EXCEEDED, "Checking your results used too much memory: return smaller values."
    if status in ("timeout", "stuck") or (status is None and not kernel.get("serving")):
        return (
            Verdict.TIMEOUT,
            "Your notebook did not finish within the time limit; cells that ran too long were stopped.",
        )
    if status == "crashed" or report.get("kernel_lost") or kernel.get("serving") is not True:
        return Verdict.CRASHED, "Your notebook's kernel stopped (it crashed or exited) before grading finished."
    errors = [c for c in cells if c.status == "error"]
    if errors:
        first = errors[0]
        return Verdict.GRADED, f"{len(errors)} cell(s) raised errors; the first was cell {first.index}: {first.ename}."
    return Verdict.GRADED, ""


def _stage_timings(outcome: Any) -> dict[str, float]:
    """Where the grading's time went. A warm pair (``warm`` 1) started and imported its environment
    before the claim (``pair_age`` seconds before); a cold one did it on the grading's clock."""
    t = dict(outcome.timings)
    report = outcome.report or {}
    kernel = report.get("kernel") if isinstance(report.get("kernel"), dict) else {}
    out = {k: round(t[k], 3) for k in ("container_start", "deliver", "warm", "pair_age") if k in t}
    try:
        started_at, claimed_at = t.get("started_at"), t.get("claimed_at")
        preloaded = kernel.get("kernel_up")
        if "warm" not in t and started_at and kernel.get("preload_started") and preloaded:
            # Where the environment's heavy imports went (before the learner's clock started).
            out["kernel_start"] = round(float(kernel["preload_started"]) - started_at, 3)
            out["preload"] = round(float(preloaded) - float(kernel["preload_started"]), 3)
        elif claimed_at and preloaded:
            # A pair claimed before it was warm: the wait for the rest of its imports.
            out["warming"] = round(max(0.0, float(preloaded) - claimed_at), 3)
        learner_clock = kernel.get("job_at") or preloaded
        if learner_clock and kernel.get("notebook_done"):
            out["notebook"] = round(float(kernel["notebook_done"]) - float(learner_clock), 3)
        if report.get("kernel_ready_at") and report.get("tests_done_at"):
            out["judging"] = round(float(report["tests_done_at"]) - float(report["kernel_ready_at"]), 3)
        if "judge_exit" in t:
            out["in_containers"] = round(t["judge_exit"] - t.get("container_start", 0.0), 3)
    except (TypeError, ValueError, OverflowError):
        pass  # the kernel's timestamps are the learner's to break; timings are only informative
    return {k: v for k, v in out.items() if math.isfinite(v)}
