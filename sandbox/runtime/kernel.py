"""Entry point of the kernel container: run the learner's notebook, then serve its namespace.

Two users, so that what the report says about the run is not the learner's to write. The
container starts this driver as root with only CAP_SETUID and CAP_SETGID; it copies the input
and starts the learner's IPython kernel as the learner user, then becomes the runner user (all
capabilities gone, no-new-privileges set by the host) for the rest: it drives the cells, times
them, and writes ``ready`` (the cell report) into the status folder, which only the runner may
write. The learner's code can neither write there, nor signal or trace the driver. The kernel's
own namespace server listens on ``kernel.sock`` in the IPC folder. The container is started
before its grading is known (a warm sandbox, claim.py): GRADER_KERNEL (JSON) holds what every
grading of the environment shares, the job file the grading's own settings; the notebook and data
files arrive in /input just before the job file, and the learner's clock starts when it has come.

Where cell outcomes come from the kernel's replies they remain the learner's claims; the
timings, whether each cell finished and whether the notebook finished are the driver's.
Outside the sandbox (the learner's own check) there is one user and no separation.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from typing import Any

from . import claim

INPUT = "/input"
WORK = "/tmp/work"
NOTEBOOK = "submission.ipynb"
PROBE_TIMEOUT_S = 3
TIMEOUT_ENAME = "GraderCellTimeout"
OUTPUT_LIMIT_CHARS = 1 << 20
# Learner tracebacks in the report: each one, and all of them together (the report must stay small).
TRACEBACK_CHARS = 6000
TRACEBACKS_TOTAL_CHARS = 60000
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_RULE = re.compile(r"^-{20,}\n?", re.M)  # IPython's line of dashes above the exception
_CELL_REF = re.compile(r"Cell In\[(\d+)\]")
_GRADER_FRAME = re.compile(r"^File \S*/sandbox_runtime/")

# Run before the learner's first cell: printing gigabytes should cost the learner their output,
# not the grader its memory. IPython keeps every cell's output in its history (`_tee`, which also
# restores `write` after each cell), so that goes first, then the cap. The learner can undo
# both, and then only hurts their own grading.
_NO_OUTPUT_HISTORY_CELL = "get_ipython()._tee = lambda channel: __import__('contextlib').nullcontext()"
_CAP_OUTPUT_CELL = """
def __grader_cap(stream, limit={limit}):
    write, sent = stream.write, [0]
    def capped(text):
        sent[0] += len(text)
        if sent[0] <= limit:
            return write(text)
        if sent[0] - len(text) <= limit:
            write("\\n[output truncated by the grader]\\n")
        return len(text)
    stream.write = capped
import sys as __grader_sys
__grader_cap(__grader_sys.stdout)
__grader_cap(__grader_sys.stderr)
del __grader_cap, __grader_sys
"""
# The data files beside the notebook, copied by the learner's own kernel (so they are the
# learner's), without the notebook and the job file; a statement, so nothing is displayed.
_COPY_INPUT_CELL = """if True:
    __import__('shutil').copytree({source!r}, {work!r}, dirs_exist_ok=True,
        ignore=__import__('shutil').ignore_patterns(*{skip!r}))
"""
_SERVE_CELL = "__import__('sandbox_runtime.kernel_server', fromlist=['serve']).serve(get_ipython().user_ns, {path!r})"


def _make_work(work: str, learner: dict[str, Any]) -> None:
    """The learner's working folder (the kernel's cwd), owned by the learner."""
    if not learner:
        os.makedirs(work, exist_ok=True)
        return
    subprocess.run(["mkdir", "-p", work], check=True, cwd="/", **learner)


def _become(uid: int) -> None:
    """Drop root for good: from here the driver is a user the learner's kernel cannot signal or trace."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _learner_kernel_manager() -> Any:
    from jupyter_client.manager import AsyncKernelManager

    class LearnerKernelManager(AsyncKernelManager):  # type: ignore[misc]
        """Starts the kernel as another user: it must read its connection file, and be interrupted by message."""

        @property
        def kernel_spec(self) -> Any:
            spec = super().kernel_spec
            if spec is not None:
                # A signal could not reach the learner's kernel once the driver is another user.
                spec.interrupt_mode = "message"
            return spec

        def write_connection_file(self, **kwargs: Any) -> Any:
            written = super().write_connection_file(**kwargs)
            # Only this kernel's ports and key: the learner's kernel holds them anyway. Its folder
            # gains search permission only (it may be /tmp, whose other bits must stay).
            folder = os.path.dirname(self.connection_file)
            os.chmod(folder, stat.S_IMODE(os.stat(folder).st_mode) | 0o011)
            os.chmod(self.connection_file, 0o644)
            return written

    return LearnerKernelManager


def _client_class() -> Any:
    from nbclient import NotebookClient

    class QuietClient(NotebookClient):  # type: ignore[misc]
        """Keeps only error outputs: printing gigabytes must not fill the driver's memory."""

        def output(self, outs: list[Any], msg: dict[str, Any], display_id: Any, cell_index: int) -> Any:
            if msg["msg_type"] != "error":
                return None
            content = msg["content"]
            frames = content.get("traceback")
            frames = frames if isinstance(frames, list) else []
            outs[:] = [
                {
                    "output_type": "error",
                    "ename": str(content.get("ename", ""))[:200],
                    "evalue": str(content.get("evalue", ""))[:4000],
                    # Bounded before any work: a deep recursion has thousands of frames.
                    "traceback": [str(f)[:4000] for f in frames[:100] + frames[100:][-100:]],
                }
            ]
            return None

        def clear_output(self, outs: list[Any], msg: dict[str, Any], cell_index: int) -> None:
            return None

    return QuietClient


def run(config: dict[str, Any]) -> None:
    t_start = time.time()
    ipc, status_dir = config["ipc"], config.get("status", config["ipc"])
    # Outside the sandbox (the learner's local check) the folders come from the config.
    source, work = config.get("input", INPUT), config.get("work", WORK)
    separate = os.geteuid() == 0 and isinstance(config.get("learner_uid"), int)
    learner = {"user": config["learner_uid"], "group": config["learner_uid"], "extra_groups": []} if separate else {}
    _make_work(work, learner)
    os.chdir(work)

    import nbformat
    from nbclient.exceptions import DeadKernelError

    separation = {"kernel_manager_class": _learner_kernel_manager()} if separate else {}
    client = _client_class()(
        # The learner's notebook replaces this once the job has come.
        nbformat.v4.new_notebook(),
        kernel_name="python3",
        allow_errors=True,
        # On a timeout nbclient interrupts the kernel and hands back this reply, keeping its
        # message loop intact (raising instead leaves later cells waiting on IOPub).
        interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "cell timed out"},
        iopub_timeout=2,
        on_cell_executed=_remember_reply,
        startup_timeout=60,
        resources={"metadata": {"path": work}},
        **separation,
    )
    cells: list[dict[str, Any]] = []
    traceback_budget = TRACEBACKS_TOTAL_CHARS
    # IPython names cells by execution count ("Cell In[3]"); the report names them by index.
    count_to_index: dict[int, int] = {}
    status = "ok"
    report: dict[str, Any] = {"started": t_start}
    with client.setup_kernel(**learner):
        if separate:
            _become(int(config["runner_uid"]))
        _run_hidden(client, _NO_OUTPUT_HISTORY_CELL, 30)
        _run_hidden(client, _CAP_OUTPUT_CELL.format(limit=OUTPUT_LIMIT_CHARS), 30)
        _run_hidden(client, "__import__('sandbox_runtime.headless', fromlist=['install']).install()", 30)
        report["preload_started"] = time.time()
        _preload(client, config.get("preload") or [], float(config.get("preload_timeout_s") or 0))
        # The environment's modules stay for the kernel's life: the learner's collections skip them.
        # Collect first: the import's garbage cycles, once frozen, could never be freed and would
        # count against the learner's memory limit for the container's life.
        _run_hidden(client, "__import__('gc').collect()\n__import__('gc').freeze()", 30)
        report["kernel_up"] = time.time()
        claim.announce_warm(config)
        job = claim.wait_for_job(config)
        if job is None:
            # Nobody claimed this sandbox in time. End here, not through nbclient's shutdown: that
            # signals the kernel, which runs as the learner's uid and cannot be signalled from this
            # one, so on a loaded host it waited and then failed with a traceback. This process is
            # the container's first: the kernel ends with it.
            sys.stdout.flush()
            os._exit(0)
        config = job
        report["job_at"] = time.time()
        skip = [NOTEBOOK, os.path.basename(config.get("job") or NOTEBOOK)]
        if _failed(_run_hidden(client, _COPY_INPUT_CELL.format(source=source, work=work, skip=skip), 60)):
            raise RuntimeError("could not copy the exercise's files beside the notebook")
        nb = nbformat.read(config.get("notebook", os.path.join(source, NOTEBOOK)), as_version=4)
        client.nb = nb
        code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        # The learner's clock starts here: the environment's heavy imports are already paid for.
        deadline = time.monotonic() + float(config["timeout_s"])
        for position, (index, cell) in enumerate(code):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or status in ("crashed", "stuck"):
                if status == "ok":
                    status = "timeout"
                cells.extend({"index": i, "status": "not_run"} for i, _ in code[position:])
                break
            client.timeout = max(1, int(min(float(config["cell_timeout_s"]), remaining)))
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                cells.append(
                    {
                        "index": index,
                        "status": "crashed",
                        "ename": "DeadKernelError",
                        "evalue": "the kernel died while running this cell (it may have run out of memory)",
                    }
                )
                status = "crashed"
                continue
            if _timed_out(cell):
                cells.append(
                    {
                        "index": index,
                        "status": "timeout",
                        "ename": "TimeoutError",
                        "evalue": f"the cell ran longer than {client.timeout} s and was interrupted",
                    }
                )
                status = "timeout" if _recovered(client) else "stuck"
                continue
            if isinstance(cell.get("execution_count"), int):
                count_to_index[cell["execution_count"]] = index
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                traceback = learner_traceback(errors[0]["traceback"], count_to_index, work)
                traceback = traceback if len(traceback) <= traceback_budget else ""
                traceback_budget -= len(traceback)
                cells.append(
                    {
                        "index": index,
                        "status": "error",
                        "ename": errors[0]["ename"],
                        "evalue": errors[0]["evalue"],
                        "traceback": traceback,
                    }
                )
            else:
                cells.append({"index": index, "status": "ok"})
        report["notebook_done"] = time.time()
        serving = status not in ("crashed", "stuck") and _start_server(client, ipc)
        report.update(status=status, serving=serving, cells=cells)
        _write_ready(status_dir, report)
        # Keep the kernel alive for the judge; the host kills this container when the judge is done.
        end = time.monotonic() + float(config["serve_s"])
        while time.monotonic() < end:
            time.sleep(1.0)


def learner_traceback(frames: list[str], count_to_index: dict[int, int], work: str) -> str:
    """The traceback as plain text, showing the learner's own code: frames in the notebook's cells
    and in files beside it. Frames inside libraries are counted, not shown; cells are named by
    their index in the notebook, as in the rest of the report."""
    kept: list[str] = []
    hidden = 0
    for raw in frames:
        frame = _RULE.sub("", _ANSI.sub("", raw))
        if not frame.strip():
            continue
        if "\n" not in frame.strip() and "Traceback (most recent call last)" in frame:
            frame = " ".join(frame.split())  # IPython pads this header to the terminal's width
        if _GRADER_FRAME.match(frame):
            continue  # the grader's own import wrapper (headless.py): neither the learner's nor a library
        library = frame.startswith("File ") and not frame.startswith(f"File {work}/")
        if library:
            hidden += 1
            continue
        if hidden:
            kept.append(f"[{hidden} frame(s) inside libraries not shown]")
            hidden = 0
        kept.append(_CELL_REF.sub(lambda m: _cell_name(m, count_to_index), frame).rstrip())
    if hidden:
        kept.append(f"[{hidden} frame(s) inside libraries not shown]")
    text = "\n\n".join(kept).strip("\n")
    if len(text) > TRACEBACK_CHARS:
        # Keep the end: the exception and the innermost frames say the most.
        text = text[: TRACEBACK_CHARS // 4] + "\n[...]\n" + text[-(TRACEBACK_CHARS * 3 // 4) :]
    return text


def _cell_name(match: re.Match[str], count_to_index: dict[int, int]) -> str:
    index = count_to_index.get(int(match.group(1)))
    return match.group(0) if index is None else f"Cell {index}"


def _run_hidden(client: Any, source: str, timeout: float) -> Any:
    """Run code the learner did not write, as an extra cell at the end of the notebook."""
    from nbformat.v4 import new_code_cell

    cell = new_code_cell(source)
    client.nb.cells.append(cell)
    client.timeout = timeout
    client.execute_cell(cell, len(client.nb.cells) - 1, store_history=False)
    return cell


async def _remember_reply(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
    cell.metadata["grader_reply"] = {"ename": execute_reply.get("content", {}).get("ename")}


def _preload(client: Any, modules: list[str], timeout: float) -> None:
    """Import the environment's heavy modules before the learner's first cell, outside its limits.

    A module that fails to import is left alone: the learner's own import then fails visibly.
    """
    names = [m for m in modules if isinstance(m, str) and re.fullmatch(r"[A-Za-z_][\w.]*", m)]
    if not names or timeout <= 0:
        return
    source = "".join(f"try:\n    __import__({name!r})\nexcept Exception:\n    pass\n" for name in names)
    _run_hidden(client, source, timeout)


def _timed_out(cell: Any) -> bool:
    return cell.metadata.get("grader_reply", {}).get("ename") == TIMEOUT_ENAME


def _recovered(client: Any) -> bool:
    """After a timeout (nbclient has interrupted the kernel): does it answer again, quickly?"""
    from nbclient.exceptions import DeadKernelError

    try:
        return not _timed_out(_run_hidden(client, "pass", PROBE_TIMEOUT_S))
    except DeadKernelError:
        return False


def _start_server(client: Any, ipc: str) -> bool:
    from nbclient.exceptions import DeadKernelError

    try:
        cell = _run_hidden(client, _SERVE_CELL.format(path=os.path.join(ipc, "kernel.sock")), 30)
    except DeadKernelError:
        return False
    return not _timed_out(cell) and not _failed(cell)


def _failed(cell: Any) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _write_ready(status_dir: str, report: dict[str, Any]) -> None:
    tmp = os.path.join(status_dir, ".ready.tmp")
    with open(tmp, "w") as f:
        json.dump(report, f)
    os.replace(tmp, os.path.join(status_dir, "ready"))


def main() -> None:
    config = json.loads(os.environ["GRADER_KERNEL"])
    try:
        run(config)
    except Exception as exc:  # report what broke where the judge can see it, then fail loudly
        print(f"kernel driver failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        try:
            _write_ready(
                config.get("status", config["ipc"]),
                {
                    "status": "crashed",
                    "serving": False,
                    "cells": [],
                    "driver_error": f"{type(exc).__name__}: {exc}"[:2000],
                },
            )
        except OSError:
            pass
        raise


if __name__ == "__main__":
    main()
