"""Load: many learners polling the API while a batch of submissions is graded, on loopback.

    .venv/bin/python bench/load.py [--learners 200] [--submissions 50] [--poll-s 2] [--web-workers 2]

Starts the platform (SQLite, gunicorn, one Celery worker of concurrency 2) as ``bench/stack.py``
does, then for the length of the grading: every learner polls, each ``--poll-s`` with jitter, its
submission list and its dashboard (the module standings); ``--submissions`` of them submit the NumPy
exercise at once and poll that submission until graded. Prints p50/p95/max per endpoint, errors,
POST-to-graded, and where the CPU went (web, worker, the sandboxes and this client), which says what
saturates first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import NUMPY, Stack  # noqa: E402

PORT = 8767
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and all its descendants (alive ones, and the reaped ones it waited for)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / TICKS  # utime stime cutime cstime
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += cpu_seconds(int(child))
    except (OSError, ValueError):
        pass
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


class Poller:
    """One learner's browser tab: keeps a connection open and polls until told to stop."""

    def __init__(self, stack: Stack, token: str, poll_s: float, record) -> None:
        self.stack, self.token, self.poll_s, self.record = stack, token, poll_s, record
        self.conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)

    def get(self, endpoint: str, path: str) -> dict | None:
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers={"Authorization": f"Token {self.token}"})
            response = self.conn.getresponse()
            body = response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            self.conn.close()
            ok, body = False, b""
        self.record(endpoint, time.perf_counter() - started, ok)
        return json.loads(body) if ok else None

    def run(self, stop: threading.Event) -> None:
        time.sleep(random.uniform(0, self.poll_s))
        while not stop.is_set():
            self.get("submissions list", "/api/v1/submissions?exercise=normalize-rows")
            self.get("dashboard (modules)", "/api/v1/modules")
            stop.wait(self.poll_s * random.uniform(0.8, 1.2))


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"{statistics.median(ordered) * 1000:8.0f}{p(0.95) * 1000:8.0f}{ordered[-1] * 1000:8.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--poll-s", type=float, default=2.0)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    stack = Stack("load", PORT)
    stack.prepare(learners=args.learners)
    data = (NUMPY / "solution.ipynb").read_bytes()
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def record(endpoint: str, seconds: float, ok: bool) -> None:
        with lock:
            samples[endpoint].append(seconds)
            errors[endpoint] += not ok

    try:
        stack.start_web(workers=args.web_workers)
        worker = stack.start_worker()
        first = stack.learners[0]
        stack.wait_graded(first.token, stack.submit(first.token, data))  # warm the worker
        stop = threading.Event()
        pollers = [Poller(stack, learner.token, args.poll_s, record) for learner in stack.learners]
        threads = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in pollers]
        cpu_before = {"web": cpu_seconds(stack.web.pid), "worker": cpu_seconds(worker.pid)}
        client_before = time.process_time()
        busy_before, total_before = machine_cpu()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.poll_s)  # every learner polling before the submissions arrive

        def submit_and_wait(learner) -> tuple[float, dict]:
            t0 = time.perf_counter()
            sid = stack.submit(learner.token, data)
            record("POST submission", time.perf_counter() - t0, True)
            body = stack.wait_graded(learner.token, sid, timeout=900, every=0.5)
            return time.perf_counter() - t0, body

        with ThreadPoolExecutor(args.submissions) as pool:
            graded = list(pool.map(submit_and_wait, stack.learners[1 : args.submissions + 1]))
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        wall = time.perf_counter() - started
        busy, total = machine_cpu()
        cpu = {"web": cpu_seconds(stack.web.pid) - cpu_before["web"]}
        cpu["worker"] = cpu_seconds(worker.pid) - cpu_before["worker"]
        cpu["this client"] = time.process_time() - client_before
        cpu["sandboxes and the rest"] = (busy - busy_before) - sum(cpu.values())
    finally:
        stack.stop()

    cores = os.cpu_count() or 1
    print(f"{args.learners} learners polling every {args.poll_s:g} s, {args.submissions} submissions at once")
    print(f"web: gunicorn x{args.web_workers}; one worker of concurrency 2; {cores} cores; wall {wall:.1f} s")
    print(f"\n{'endpoint':<24}{'requests':>9}{'errors':>8}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'req/s':>8}")
    for endpoint, values in sorted(samples.items()):
        rate = len(values) / wall
        print(f"{endpoint:<24}{len(values):9d}{errors[endpoint]:8d}{percentiles(values)}{rate:8.1f}")
    latencies = [seconds for seconds, _ in graded]
    full = sum(body["status"] == "graded" and body["score"] == body["max_score"] for _, body in graded)
    print(f"{'POST to graded':<24}{len(graded):9d}{len(graded) - full:8d}{percentiles(latencies)}")
    print(f"\nCPU seconds over the run (machine: {(total - total_before) * 1.0:.0f} s of capacity)")
    for name, seconds in cpu.items():
        print(f"{name:<24}{seconds:8.1f}  {seconds / wall / cores:6.0%} of the machine")
    print(f"{'machine busy':<24}{busy - busy_before:8.1f}  {(busy - busy_before) / (total - total_before):6.0%}")


if __name__ == "__main__":
    main()
