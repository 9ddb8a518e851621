"""Fault suite: the real services broken while submissions are graded, and what is left afterwards.

    .venv/bin/python bench/faults.py [--per-fault 6] [--only worker-kill,redis,...]

Runs the whole platform on PostgreSQL (a database of its own), Redis database 14, gunicorn, one
Celery worker of concurrency 2 and beat, with the stuck-submission job every 5 s and a stuck
threshold of 30 s (production: 60 s and about 31 minutes). For each fault, ``--per-fault`` learners
submit a notebook that takes a few seconds; once some are running the fault is injected and
repaired; then it checks that every submission was graded exactly once with full marks (one row
each, one set of test rows, nobody's submissions doubled), that no sandbox container or volume is
left, and that the learner's page and the API show the graded state. Prints one line per fault.

It restarts this machine's Redis, PostgreSQL and dockerd: run it alone, never next to the tests.
Needs root (service restarts) and the sandbox image (``scripts/test.sh`` or ``scripts/run.sh``
builds it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import NUMPY, Stack, sandbox_objects  # noqa: E402

PORT = 8766
SLOW_SECONDS = 4  # the notebook's own run time: long enough for a fault to land mid-grading


def slow_solution() -> bytes:
    notebook = json.loads((NUMPY / "solution.ipynb").read_text())
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
    notebook["cells"].insert(0, cell | {"source": f"import time\ntime.sleep({SLOW_SECONDS})"})
    return json.dumps(notebook).encode()


def _run(*command: str) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_redis(stack: Stack) -> None:
    subprocess.run(["redis-cli", "shutdown", "nosave"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    _run(
        "redis-server",
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no",
    )
    stack.wait_until(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).returncode == 0, 30, "redis")


def restart_postgres(stack: Stack) -> None:
    _run("pg_ctlcluster", "15", "main", "restart")


def restart_dockerd(stack: Stack) -> None:
    pid = int(subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=True).stdout.split()[0])
    os.kill(pid, signal.SIGTERM)
    stack.wait_until(lambda: not Path(f"/proc/{pid}").exists(), 60, "dockerd did not stop")
    log = open("/var/log/dockerd.log", "ab")
    subprocess.Popen(["setsid", "dockerd"], stdout=log, stderr=log, start_new_session=True)
    ok = lambda: subprocess.run(["docker", "info"], capture_output=True).returncode == 0  # noqa: E731
    stack.wait_until(ok, 60, "dockerd did not come back")


def kill_worker(stack: Stack) -> None:
    for worker in stack.workers:
        stack.signal(worker, signal.SIGKILL)
    stack.workers.clear()
    stack.start_worker()


def restart_web(stack: Stack) -> None:
    stack.signal(stack.web, signal.SIGTERM)
    stack.start_web()


FAULTS = {
    "worker-kill": kill_worker,
    "redis": restart_redis,
    "postgres": restart_postgres,
    "dockerd": restart_dockerd,
    "web": restart_web,
}


def page_row(html: str, submission_id: int) -> str:
    """The learner's history row of one submission, as the page renders it."""
    start = html.find(f'data-attempt="{submission_id}"')
    return html[start : html.find("</tr>", start)] if start >= 0 else ""


def run_fault(stack: Stack, name: str, learners: list, data: bytes, rounds: int) -> dict:
    """One fault while ``learners`` each have one submission in flight; ``rounds``: submissions each has then."""
    started = time.monotonic()
    with ThreadPoolExecutor(len(learners)) as pool:
        ids = list(pool.map(lambda learner: stack.submit(learner.token, data), learners))
    token = learners[0].token
    stack.wait_until(lambda: stack.status(token, ids[0])["status"] == "running", 120, "nothing started", 0.1)
    time.sleep(1.5)  # inside the sandbox now
    at_fault = {i: stack.status(token, i)["status"] for i in ids[:1]}
    fault_started = time.monotonic()
    FAULTS[name](stack)
    repaired = time.monotonic() - fault_started
    with ThreadPoolExecutor(len(learners)) as pool:
        results = list(
            pool.map(
                lambda pair: stack.wait_graded(pair[0].token, pair[1], timeout=400), zip(learners, ids, strict=True)
            )
        )
    all_graded = time.monotonic() - fault_started
    audit = stack.audit(ids)
    problems = []
    for sid, result in zip(ids, results, strict=True):
        row = audit["rows"][sid]
        if result["status"] != "graded" or result["score"] != result["max_score"]:
            problems.append(f"#{sid} {result['status']} {result.get('score')}/{result['max_score']}")
        if row.get("test_rows") != len(result["result"]["tests"]):
            problems.append(f"#{sid} has {row.get('test_rows')} test rows for {len(result['result']['tests'])} tests")
        if row["status"] != result["status"]:
            problems.append(f"#{sid}: API {result['status']}, database {row['status']}")
    if audit["max_per_learner"] != rounds:
        problems.append(f"a learner has {audit['max_per_learner']} submissions, not {rounds}")
    row = page_row(stack.page_shows(learners[-1].username), ids[-1])
    if "graded" not in row or f"{results[-1]['max_score']:g}/" not in row:
        problems.append(f"the learner's page shows {row!r} for #{ids[-1]}")
    return {
        "fault": name,
        "submissions": len(ids),
        "state at fault": at_fault,
        "repair_s": round(repaired, 1),
        "all_graded_after_fault_s": round(all_graded, 1),
        "total_s": round(time.monotonic() - started, 1),
        "claims": sorted(row["attempts"] for row in audit["rows"].values()),
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-fault", type=int, default=6)
    parser.add_argument("--only", default=",".join(FAULTS))
    args = parser.parse_args()
    chosen = args.only.split(",")
    stack = Stack(
        "faults",
        PORT,
        postgres=True,
        # Production: stuck after about 31 minutes, checked every minute; here recovery shows within one.
        GRADING_STUCK_AFTER_S="30",
        GRADING_REQUEUE_EVERY_S="5",
    )
    stack.prepare(learners=args.per_fault + 1)  # one more warms the worker
    before = sandbox_objects()
    data = slow_solution()
    failed = 0
    suite_started = time.monotonic()
    try:
        stack.start_web()
        stack.start_beat()
        stack.start_worker()
        stack.wait_graded(stack.learners[0].token, stack.submit(stack.learners[0].token, data), timeout=300)  # warm
        for rounds, name in enumerate(chosen, start=1):
            outcome = run_fault(stack, name, stack.learners[1:], data, rounds)
            failed += bool(outcome["problems"])
            print(json.dumps(outcome), flush=True)
    finally:
        stack.stop()
    from sandbox.driver import reap_stale

    reap_stale()  # what killed workers left; a live worker's engine does the same every minute
    left = sandbox_objects() - before
    print(f"sandbox objects left after the suite: {len(left)}")
    print(f"faults: {len(chosen)}, with problems: {failed}, suite {time.monotonic() - suite_started:.0f} s")
    return 1 if failed or left else 0


if __name__ == "__main__":
    sys.exit(main())
