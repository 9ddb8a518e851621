"""Host side of the sandbox: start the kernel and judge containers, wait, collect, clean up.

One grading uses a pair: four volumes and two containers, all labelled with the pair's id and the
process that owns them:

- ``<id>-ipc``: a small tmpfs shared by both containers, holding the namespace socket;
- ``<id>-status``: a small tmpfs the kernel driver's runner writes and the judge reads;
- ``<id>-kin``: the notebook and data files, mounted into the kernel container only;
- ``<id>-jin``: the tests and data files, mounted into the judge container only.

A pair is started (:func:`start_pair`) before its grading is known, by a warm pool (pool.py) or
by :func:`run` itself; it holds nothing of a grading until :func:`run` delivers one, and serves
that one only. Files are copied in with ``put_archive`` (so this works when the worker itself runs
in a container with the Docker socket), owned by root so the unprivileged users cannot change them.
Every object is removed once the grading is done (in the background when both containers have
exited); what a killed worker leaves behind is removed by :func:`reap_stale`. While the judge
runs, its stdout is followed for stage lines so that a caller can tell the learner when the
notebook is done and the tests have started.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.types import DeviceRequest, LogConfig, Mount, Ulimit

from grader.limits import MAX_LIMITS, Limits
from sandbox.environment import DefinitionError, ImageEnvironment
from sandbox.runtime.wire import Codec

LABEL = "coursegrade.sandbox"
KERNEL_UID = 1000
JUDGE_UID = 1001
# The kernel container's driver after it drops root: the only user that may write the status folder.
RUNNER_UID = 1002
# The judge's report: a file in a folder of its input volume that only the judge may write (the
# kernel never sees that volume). Capped well below this size by the judge itself.
REPORT_DIR = "out"
REPORT_PATH = f"/bundle/{REPORT_DIR}/report.json"
MAX_REPORT_BYTES = 8 << 20
# Where each container finds its grading's settings, delivered after the claim (files of the
# grading first): the kernel's input volume and the judge's, each written only by root.
KERNEL_JOB = "/input/.grader-job.json"
JUDGE_JOB = "/bundle/.grader-job.json"
# Printed by both containers once their preload is done; they then wait for their job.
WARM_MARK = "coursegrade-sandbox-warm"
# How long a pair started for a job it already has waits for that job (it arrives at once).
COLD_CLAIM_WAIT_S = 120.0
# The stages the judge announces on stdout (``<nonce>!<stage>``), in order.
STAGES = ("judging",)
# Learners' notebooks and the libraries they use run headless and offline: plots render to
# nothing, experiment trackers and model hubs never try the (absent) network.
HEADLESS_ENV = {
    "MPLBACKEND": "Agg",
    "WANDB_MODE": "disabled",
    "WANDB_SILENT": "true",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HOME": "/tmp/hf",
    "TOKENIZERS_PARALLELISM": "false",
}
_local = threading.local()
log = logging.getLogger(__name__)


def docker_client() -> docker.DockerClient:
    """One Docker client per thread (their HTTP sessions are not shared safely across threads)."""
    client = getattr(_local, "client", None)
    if client is None:
        client = docker.from_env(timeout=120)
        _local.client = client
    return client


@dataclass(frozen=True)
class SandboxJob:
    """Everything the containers need; built by the engine from a bundle and a notebook."""

    image: str
    notebook: bytes  # the cleaned notebook, as JSON
    kernel_files: dict[str, Path]  # name beside the notebook -> host file (data files)
    judge_files: dict[str, Path]  # path under /bundle -> host file (tests and data)
    limits: Limits
    device: str = "cpu"
    gpu_device_ids: tuple[str, ...] = ()
    # The environment's heavy modules, imported by both containers before their clocks start;
    # the host's deadlines allow ``preload_timeout_s`` for it on top of the limits.
    preload: tuple[str, ...] = ()
    preload_timeout_s: float = 0.0
    # Library types that cross as data: the environment's, then the bundle's (the judge tells the kernel).
    codecs: tuple[Codec, ...] = ()
    # Called from another thread with each stage the judge reaches ("judging"); errors are logged.
    on_stage: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def host_deadline_s(self) -> float:
        """After this the host kills both containers: the limits' deadline plus both preloads."""
        return self.limits.host_deadline_s + 2 * self.preload_timeout_s

    @property
    def shape(self) -> PairShape:
        """The pair of containers this job can be graded in."""
        limits = self.limits
        return PairShape(
            image=self.image,
            device=self.device,
            gpu_device_ids=self.gpu_device_ids,
            memory_mb=limits.memory_mb,
            judge_memory_mb=limits.judge_memory_mb,
            cpus=limits.cpus,
            pids=limits.pids,
            scratch_mb=limits.scratch_mb,
            preload=self.preload,
            preload_timeout_s=self.preload_timeout_s,
        )


@dataclass(frozen=True)
class PairShape:
    """What a pair of containers is created with, before any grading is known: the image, every
    container limit and the environment's heavy modules. A pair serves any job of its shape; the
    job's own settings (time limits, the tests, the nonce) arrive with the job."""

    image: str
    device: str = "cpu"
    gpu_device_ids: tuple[str, ...] = ()
    memory_mb: int = 2048
    judge_memory_mb: int = 2048
    cpus: float = 1.0
    pids: int = 256
    scratch_mb: int = 256
    preload: tuple[str, ...] = ()
    preload_timeout_s: float = 0.0


@dataclass
class Pair:
    """A started kernel and judge container waiting for their one job (see :func:`start_pair`)."""

    name: str
    shape: PairShape
    kernel: Any
    judge: Any
    started_at: float  # time.time() when both were started
    started: float  # time.monotonic() of the same
    warm: bool = False  # both containers have said they are ready (see :func:`is_warm`)

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.started


@dataclass
class SandboxOutcome:
    report: dict[str, Any] | None = None
    timed_out: bool = False
    kernel_oom: bool = False
    judge_oom: bool = False
    judge_exit: int | None = None
    judge_stderr: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class ImageMissing(RuntimeError):
    """The sandbox image is not on this Docker host (or does not describe an environment)."""


_described: dict[str, ImageEnvironment] = {}
_described_lock = threading.Lock()


def environment_of(image: str) -> ImageEnvironment:
    """The environment ``image`` was built for, read once per image from its /opt/environment.json."""
    with _described_lock:
        if image in _described:
            return _described[image]
    from sandbox.image import image_description

    try:
        described = ImageEnvironment.parse(image_description(image))
    except docker.errors.ImageNotFound as exc:
        raise ImageMissing(f"no image {image}") from exc
    except (docker.errors.NotFound, DefinitionError, ValueError) as exc:
        raise ImageMissing(f"{image} does not describe its environment: {exc}") from exc
    with _described_lock:
        _described[image] = described
    return described


def _start_time(pid: int | str) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (tells a reused pid apart); None if there is none."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_label(pid: int | None = None) -> str:
    """The owner label (``host:pid:start``) on the sandbox objects that process ``pid`` (default: this one) makes.

    Raises ProcessLookupError for a pid with no process: its label can no longer be known.
    """
    if pid is None:
        return f"{socket.gethostname()}:{os.getpid()}:{_start_time('self') or '0'}"
    start = _start_time(pid)
    if start is None:
        raise ProcessLookupError(f"no process {pid}")
    return f"{socket.gethostname()}:{pid}:{start}"


def _labels(grading_id: str, deadline: float) -> dict[str, str]:
    return {
        LABEL: "1",
        f"{LABEL}.id": grading_id,
        f"{LABEL}.owner": owner_label(),
        f"{LABEL}.deadline": str(int(deadline)),
    }


def _tar(
    files: dict[str, bytes | Path], writable_dir: tuple[str, int] | None = None, last: tuple[str, bytes] | None = None
) -> bytes:
    """The files as a tar stream, root-owned and read-only to others; ``writable_dir`` is (name, owner uid),
    ``last`` a file written after all the others."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        if writable_dir is not None:
            info = tarfile.TarInfo(writable_dir[0])
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o700, writable_dir[1], writable_dir[1]
            tar.addfile(info)
        dirs: set[str] = set()
        for name, content in [*sorted(files.items()), *([last] if last else [])]:
            parts = Path(name).parts
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            data = content.read_bytes() if isinstance(content, Path) else content
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _common(shape: PairShape, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "image": shape.image,
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "nano_cpus": int(shape.cpus * 1e9),
        "ulimits": [Ulimit(name="nofile", soft=1024, hard=1024), Ulimit(name="core", soft=0, hard=0)],
        "log_config": LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        "labels": labels,
        "detach": True,
        "stdin_open": False,
        "tty": False,
    }


def _kernel_spec(shape: PairShape, name: str, labels: dict[str, str], claim_wait_s: float) -> dict[str, Any]:
    threads = str(max(1, int(shape.cpus)))
    spec = _common(shape, labels) | {
        "name": f"{name}-kernel",
        "command": ["python3", "-m", "sandbox_runtime.kernel"],
        # Root only to start the learner's kernel as KERNEL_UID and then become RUNNER_UID: these
        # two capabilities are all it has, and they are gone once it has (kernel.py).
        "user": "0:0",
        "cap_add": ["SETUID", "SETGID"],
        "mem_limit": f"{shape.memory_mb}m",
        "memswap_limit": f"{shape.memory_mb}m",
        "pids_limit": shape.pids,
        "tmpfs": {"/tmp": f"size={shape.scratch_mb}m,mode=1777,exec"},
        "mounts": [
            Mount("/input", f"{name}-kin", type="volume", read_only=False),
            Mount("/ipc", f"{name}-ipc", type="volume", no_copy=True),
            Mount("/status", f"{name}-status", type="volume", no_copy=True),
        ],
        "environment": {
            # What the pair is started with; the grading's own settings come in KERNEL_JOB.
            "GRADER_KERNEL": json.dumps(
                {
                    "status": "/status",
                    "learner_uid": KERNEL_UID,
                    "runner_uid": RUNNER_UID,
                    "ipc": "/ipc",
                    "preload": list(shape.preload),
                    "preload_timeout_s": shape.preload_timeout_s,
                    "job": KERNEL_JOB,
                    "claim_wait_s": claim_wait_s,
                    "warm_mark": WARM_MARK,
                }
            ),
            "GRADER_DEVICE": shape.device,
            "HOME": "/tmp/home",
            "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
            "IPYTHONDIR": "/tmp/ipython",
            "MPLCONFIGDIR": "/tmp/mpl",
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            **HEADLESS_ENV,
        },
    }
    if shape.gpu_device_ids:
        spec["device_requests"] = [DeviceRequest(device_ids=list(shape.gpu_device_ids), capabilities=[["gpu"]])]
    return spec


def _judge_spec(shape: PairShape, name: str, labels: dict[str, str], claim_wait_s: float) -> dict[str, Any]:
    return _common(shape, labels) | {
        "name": f"{name}-judge",
        "command": ["python3", "-m", "sandbox_runtime.judge"],
        "user": f"{JUDGE_UID}:{JUDGE_UID}",
        "mem_limit": f"{shape.judge_memory_mb}m",
        "memswap_limit": f"{shape.judge_memory_mb}m",
        "pids_limit": 64,
        "tmpfs": {"/tmp": "size=64m,mode=1777"},
        "mounts": [
            Mount("/bundle", f"{name}-jin", type="volume", read_only=False),
            Mount("/ipc", f"{name}-ipc", type="volume", no_copy=True, read_only=True),
            Mount("/status", f"{name}-status", type="volume", no_copy=True, read_only=True),
        ],
        "environment": {
            # What the pair is started with; the tests, the nonce and the limits come in JUDGE_JOB.
            "GRADER_JUDGE": json.dumps(
                {
                    "ipc": "/ipc",
                    "status": "/status",
                    "preload": list(shape.preload),
                    "job": JUDGE_JOB,
                    "claim_wait_s": claim_wait_s,
                    "warm_mark": WARM_MARK,
                }
            ),
            "HOME": "/tmp",
            "OMP_NUM_THREADS": "1",
            **HEADLESS_ENV,
        },
    }


def _kernel_job(job: SandboxJob) -> dict[str, Any]:
    """The grading's settings for the kernel driver, delivered after the claim."""
    return {
        "timeout_s": job.limits.timeout_s,
        "cell_timeout_s": job.limits.cell_timeout_s,
        # The kernel serves until the host's deadline at the latest; the host kills it sooner.
        "serve_s": job.host_deadline_s,
    }


def _judge_job(job: SandboxJob, nonce: str) -> dict[str, Any]:
    """The grading's settings for the judge, delivered after the claim with the tests."""
    limits = job.limits
    return {
        "nonce": nonce,
        "tests": "/bundle/tests",
        "notebook": "/bundle/submission.ipynb",
        "report": REPORT_PATH,
        "device": job.device,
        # Counted from the job's arrival; the kernel may still be importing the environment.
        "kernel_wait_s": limits.timeout_s + 20.0 + job.preload_timeout_s,
        "judge_budget_s": limits.judge_deadline_s + job.preload_timeout_s,
        "codecs": [c.as_dict() for c in job.codecs],
        "test_timeout_s": limits.test_timeout_s,
        "max_message_bytes": limits.max_message_mb << 20,
        "max_output_chars": limits.max_output_chars,
    }


def start_pair(shape: PairShape, *, claim_wait_s: float = COLD_CLAIM_WAIT_S) -> Pair:
    """Create and start a kernel and a judge container of ``shape``, with their volumes.

    Both import the environment's heavy modules, say so on stdout (:func:`is_warm`) and wait, at
    most ``claim_wait_s``, for the one job :func:`run` delivers; then they exit. Nothing of a
    grading is in them yet: no notebook, no tests, no nonce.
    """
    client = docker_client()
    name = f"cg-{secrets.token_hex(6)}"
    longest = claim_wait_s + MAX_LIMITS.host_deadline_s + 2 * shape.preload_timeout_s
    labels = _labels(name, time.time() + longest + 60)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            # The learner's socket folder, and the status folder only the kernel driver's runner writes.
            _tmpfs_volume(client, f"{name}-ipc", KERNEL_UID, "size=4m,mode=0711", labels)
            _tmpfs_volume(client, f"{name}-status", RUNNER_UID, "size=8m,mode=0755", labels)
            for suffix in ("kin", "jin"):
                client.volumes.create(f"{name}-{suffix}", labels=labels)
            kernel_f = pool.submit(client.containers.create, **_kernel_spec(shape, name, labels, claim_wait_s))
            judge_f = pool.submit(
                _create, client, _judge_spec(shape, name, labels, claim_wait_s), "/bundle", {}, (REPORT_DIR, JUDGE_UID)
            )
            kernel, judge = kernel_f.result(), judge_f.result()
            list(pool.map(lambda c: c.start(), (kernel, judge)))
    except BaseException:
        remove(client, name)
        raise
    return Pair(name=name, shape=shape, kernel=kernel, judge=judge, started_at=time.time(), started=time.monotonic())


def is_warm(pair: Pair) -> bool | None:
    """True once both containers have imported what they preload; None if one of them has exited."""
    if pair.warm:
        return True
    mark = WARM_MARK.encode()
    try:
        for container in (pair.kernel, pair.judge):
            # No `tail`: the daemon counts it over stdout and stderr together, so a few dozen lines
            # of stderr after the mark would hide it. Until the mark, both streams are a few lines.
            if mark not in container.logs(stdout=True, stderr=False):
                container.reload()
                return None if container.status != "running" else False
    except docker.errors.NotFound:
        return None
    pair.warm = True
    return True


def pair_memory_mb(pair: Pair) -> float | None:
    """The memory both containers of a pair hold now (page cache excluded), as the daemon reports it."""
    total = 0.0
    try:
        for container in (pair.kernel, pair.judge):
            stats = container.client.api.stats(container.id, stream=False, one_shot=True)
            memory = stats.get("memory_stats") or {}
            detail = memory.get("stats") or {}
            cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
            total += (memory.get("usage", 0) - cache) / (1 << 20)
    except (docker.errors.APIError, TypeError, ValueError):
        return None
    return round(total, 1) if total > 0 else None


def run(job: SandboxJob, pair: Pair | None = None) -> SandboxOutcome:
    """Grade ``job`` in ``pair`` (of ``job.shape``; a pair is started for it when None) and return
    what the judge reported. The pair serves this job only: it is removed afterwards."""
    client = docker_client()
    outcome = SandboxOutcome()
    nonce = secrets.token_hex(16)
    t0 = time.monotonic()
    follower: threading.Thread | None = None
    if pair is None:
        pair = start_pair(job.shape)
        outcome.timings["container_start"] = time.monotonic() - t0
    elif pair.shape != job.shape:
        remove(client, pair.name)
        raise ValueError(f"a pair of {pair.shape} cannot grade a job of {job.shape}")
    else:
        outcome.timings["warm"] = 1.0
        outcome.timings["pair_age"] = pair.age_s
    outcome.timings["started_at"] = pair.started_at
    try:
        outcome.timings["claimed_at"] = time.time()
        t_claim = time.monotonic()
        _deliver(pair, job, nonce)
        outcome.timings["deliver"] = time.monotonic() - t_claim
        if job.on_stage is not None:
            follower = threading.Thread(
                target=_follow_stages,
                args=(client, pair.judge.id, nonce, job.on_stage),
                name=f"{pair.name}-stages",
                daemon=True,
            )
            follower.start()
        _wait(pair.judge, job.host_deadline_s - (time.monotonic() - t_claim), outcome)
        outcome.timings["judge_exit"] = time.monotonic() - t0
        # Two round trips to the daemon, at once: the report is what the learner waits for.
        with ThreadPoolExecutor(max_workers=1) as side:
            oom_events = side.submit(_oom_events, client, pair.started_at, [pair.kernel.id, pair.judge.id])
            if not outcome.timed_out:
                outcome.report = _read_report(pair.judge, nonce)
            ooms = oom_events.result()
        outcome.kernel_oom, outcome.judge_oom = pair.kernel.id in ooms, pair.judge.id in ooms
        if not outcome.timed_out:
            if outcome.report is None:
                logs = pair.judge.logs(stdout=False, stderr=True, tail=40)
                outcome.judge_stderr = logs.decode("utf-8", "replace")[-4000:]
    except BaseException:
        remove(client, pair.name)
        raise
    else:
        if outcome.timed_out:
            remove(client, pair.name)  # the containers still run: stop them now
        else:
            remove_later(pair.name)  # both have exited: nothing of the grading waits on this
    finally:
        if follower is not None:
            follower.join(timeout=5)  # the judge has exited or been removed: its log stream has ended
    return outcome


def _deliver(pair: Pair, job: SandboxJob, nonce: str) -> None:
    """Copy the grading into the started pair: files first, then the job file the containers wait for."""
    kernel_files: dict[str, bytes | Path] = {"submission.ipynb": job.notebook, **job.kernel_files}
    # The judge gets the notebook too: a hidden test shows a learner's frame only if it is a line
    # of what they submitted, checked against this copy.
    judge_files: dict[str, bytes | Path] = {**job.judge_files, "submission.ipynb": job.notebook}
    deliveries = [
        (pair.kernel, "/input", kernel_files, KERNEL_JOB, _kernel_job(job)),
        (pair.judge, "/bundle", judge_files, JUDGE_JOB, _judge_job(job, nonce)),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda delivery: _put_job(*delivery), deliveries))


def _put_job(
    container: Any, target: str, files: dict[str, bytes | Path], job_path: str, config: dict[str, Any]
) -> None:
    """One archive, the job file its last member: extracted in order, so once it is there the files are too."""
    folder, _, name = job_path.rpartition("/")
    if folder != target:
        raise ValueError(f"the job file {job_path} must be in {target}")
    if not container.put_archive(target, _tar(files, last=(name, json.dumps(config).encode()))):
        raise RuntimeError(f"could not copy the grading into {container.name}")


_removals: tuple[int, ThreadPoolExecutor] | None = None
_pending_removals: set[Future[int]] = set()
_removals_lock = threading.Lock()


def remove_later(grading_id: str) -> None:
    """Remove a grading's objects in the background (see :func:`wait_removals`)."""
    global _removals
    with _removals_lock:
        if _removals is None or _removals[0] != os.getpid():  # a forked worker process starts its own
            _removals = (os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-removal"))
            _pending_removals.clear()
        future = _removals[1].submit(_remove_logged, grading_id)
        _pending_removals.add(future)
    future.add_done_callback(_pending_removals.discard)


def wait_removals(timeout: float = 120.0) -> None:
    """Wait until the background removals started so far are done (tests; the interpreter's exit waits too)."""
    with _removals_lock:
        pending = list(_pending_removals)
    wait(pending, timeout=timeout)


def _remove_logged(grading_id: str) -> int:
    try:
        return remove(docker_client(), grading_id)
    except Exception:  # the reaper removes it later: its owner is this live process, or gone
        log.exception("could not remove sandbox %s", grading_id)
        return 0


def _follow_stages(client: docker.DockerClient, judge_id: str, nonce: str, on_stage: Callable[[str], None]) -> None:
    """Call ``on_stage`` for each stage line the judge prints, until its report starts."""
    prefix = nonce.encode()
    pending = b""
    try:
        for chunk in client.api.logs(judge_id, stdout=True, stderr=False, stream=True, follow=True):
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                stage = line[len(prefix) + 1 :].decode("ascii", "replace")
                if line.startswith(prefix + b"!") and stage in STAGES:
                    on_stage(stage)
                elif line.startswith(prefix):
                    return  # the report: no stage comes after it
            if len(pending) > 4096:
                return  # a line this long is the report
    except Exception:  # the live status is a courtesy; the grading goes on without it
        log.warning("could not follow the judge's stages", exc_info=True)


def _tmpfs_volume(client: docker.DockerClient, name: str, owner: int, options: str, labels: dict[str, str]) -> None:
    client.volumes.create(
        name,
        driver="local",
        driver_opts={"type": "tmpfs", "device": "tmpfs", "o": f"{options},uid={owner},gid={owner}"},
        labels=labels,
    )


def _create(
    client: docker.DockerClient,
    spec: dict[str, Any],
    target: str,
    files: dict[str, bytes | Path],
    writable_dir: tuple[str, int] | None = None,
) -> Any:
    container = client.containers.create(**spec)
    if not container.put_archive(target, _tar(files, writable_dir)):
        raise RuntimeError(f"could not copy files into {spec['name']}")
    return container


def _wait(judge: Any, timeout: float, outcome: SandboxOutcome) -> None:
    try:
        result = judge.wait(timeout=max(timeout, 1.0))
        outcome.judge_exit = int(result.get("StatusCode", -1))
    except Exception as exc:  # requests raises ReadTimeout or ConnectionError subclasses here
        if "timed out" not in str(exc).lower() and "timeout" not in type(exc).__name__.lower():
            raise
        outcome.timed_out = True


def _oom_events(client: docker.DockerClient, since: float, container_ids: list[str]) -> set[str]:
    """Containers in which the kernel's OOM killer struck, from the daemon's event log.

    State.OOMKilled only tells whether the container's first process was killed; the learner's
    kernel is a child of it, so the "oom" events are the trustworthy record.
    """
    events = client.events(
        since=int(since) - 1,
        # A float "until" in the past: an int rounded up would make the daemon wait for it.
        until=f"{time.time():.6f}",
        filters={"type": "container", "event": "oom", "container": container_ids},
        decode=True,
    )
    return {event.get("id") or event.get("Actor", {}).get("ID", "") for event in events}


def _read_report(judge: Any, nonce: str) -> dict[str, Any] | None:
    """The judge's report file, copied out of its stopped container; None if absent, too big or unsigned."""
    try:
        stream, stat = judge.get_archive(REPORT_PATH)
    except docker.errors.NotFound:
        return None
    if not isinstance(stat, dict) or int(stat.get("size", 0)) > MAX_REPORT_BYTES:
        return None
    data = b"".join(stream)
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.next()
            if member is None or not member.isfile() or member.size > MAX_REPORT_BYTES:
                return None
            extracted = tar.extractfile(member)
            raw = extracted.read() if extracted is not None else b""
    except tarfile.TarError:
        return None
    text = raw.decode("utf-8", "replace")
    if not text.startswith(nonce + "{"):
        return None
    try:
        report = json.loads(text[len(nonce) :])
    except (ValueError, RecursionError):
        return None
    return report if isinstance(report, dict) else None


def remove(client: docker.DockerClient, grading_id: str) -> int:
    """Remove every container and volume of one grading, whatever state they are in."""
    removed = 0
    # sparse: no inspection of each, which fails for one that another reaper removes meanwhile.
    found = client.containers.list(all=True, filters={"label": f"{LABEL}.id={grading_id}"}, sparse=True)
    # One after the other: this also runs in removal threads while the interpreter exits, when no
    # new thread may start.
    removed += sum(_remove_container(container) for container in found)
    for volume in client.volumes.list(filters={"label": f"{LABEL}.id={grading_id}"}):
        removed += _remove_volume(volume)
    return removed


def _remove_container(container: Any) -> int:
    try:
        container.remove(force=True, v=True)
        return 1
    except docker.errors.NotFound:
        return 0
    except docker.errors.APIError as exc:
        if exc.status_code == 409:  # its owner (or another reaper) is removing it right now
            return 0
        raise


def _remove_volume(volume: Any) -> int:
    for _ in range(20):
        try:
            volume.remove(force=True)
            return 1
        except docker.errors.NotFound:
            return 0
        except docker.errors.APIError as exc:
            if "in use" not in str(exc):
                raise
            time.sleep(0.1)  # its container is still being torn down
    return 0


def _owner_alive(owner: str) -> bool | None:
    """Whether the process of an owner label runs; None for another host's, which cannot be seen from here."""
    host, _, rest = owner.partition(":")
    pid, _, start = rest.partition(":")
    if host != socket.gethostname():
        return None
    if not pid.isdigit():
        return False
    # Any live process of this host counts, another worker or another checkout's tests alike; a
    # pid now used by a later process has another start time.
    return _start_time(pid) == start


def all_labels(client: docker.DockerClient) -> list[dict[str, str]]:
    """The labels of every sandbox container and volume on this Docker host, whoever made them.

    From the listings alone: inspecting each container, as ``containers.list`` does, fails on one
    that its owner removes meanwhile, and other gradings remove theirs all the time.
    """
    labels = [c.get("Labels") or {} for c in client.api.containers(all=True, filters={"label": LABEL})]
    return labels + [v.attrs.get("Labels") or {} for v in client.volumes.list(filters={"label": LABEL})]


def gradings_of(*owners: str) -> set[str]:
    """The ids of the gradings of which a container or volume made by one of ``owners`` is on this Docker host.

    ``owners`` are owner labels (:func:`owner_label`); objects of other processes, a worker's or
    another machine's, are not counted.
    """
    wanted = set(owners)
    return {
        labels.get(f"{LABEL}.id", "")
        for labels in all_labels(docker_client())
        if labels.get(f"{LABEL}.owner") in wanted
    }


def reap_stale(*, force_all: bool = False) -> int:
    """Remove the sandbox objects of owner processes that are gone.

    The owner is the process that labelled them. One of this host is gone when no process runs
    with its pid and start time; while it runs its objects are its own to remove, whatever their
    deadline (one that hangs is ended by the task's time limit, and then they go). Another
    host's processes cannot be seen from here: their objects go once their deadline has passed.
    """
    client = docker_client()
    now = time.time()
    stale: set[str] = set()
    for labels in all_labels(client):
        grading_id = labels.get(f"{LABEL}.id")
        if not grading_id:
            continue
        try:
            expired = float(labels.get(f"{LABEL}.deadline", "0")) < now
        except ValueError:
            expired = True
        alive = _owner_alive(labels.get(f"{LABEL}.owner", ""))
        if force_all or alive is False or (alive is None and expired):
            stale.add(grading_id)
    return sum(remove(client, grading_id) for grading_id in stale)
