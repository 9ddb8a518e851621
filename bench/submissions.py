"""Benchmark: the whole stack (HTTP API, Redis, one Celery worker of concurrency 2, Docker sandbox).

    .venv/bin/python bench/submissions.py [--latency-runs 5] [--burst 12]

Starts gunicorn and a Celery worker on a private SQLite database, Redis database 14 and media
folder (all under var/bench/; see bench/stack.py), then prints:
- latency from POST to `graded` for the NumPy exercise, next to the engine's own time for the
  same grading (the Result's execution_time) and the difference: what the platform adds;
- throughput: ``--burst`` learners each submit at once; submissions per minute until all graded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import NUMPY, Stack  # noqa: E402

PORT = 8765


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--burst", type=int, default=12)
    args = parser.parse_args()
    stack = Stack("bench", PORT)
    stack.prepare(learners=args.burst + 1)
    tokens = [learner.token for learner in stack.learners]
    try:
        stack.start_web()
        stack.start_worker()
        data = (NUMPY / "solution.ipynb").read_bytes()
        stack.wait_graded(tokens[0], stack.submit(tokens[0], data))  # warm the worker processes and the page cache
        latencies, engine = [], []
        for _ in range(args.latency_runs):
            started = time.perf_counter()
            body = stack.wait_graded(tokens[0], stack.submit(tokens[0], data), every=0.01)
            latencies.append(time.perf_counter() - started)
            engine.append(body["result"]["execution_time"])
        lat, eng = statistics.median(latencies), statistics.median(engine)
        print(f"NumPy exercise, median of {args.latency_runs}, seconds")
        print(f"{'POST to graded':>16}{'engine':>10}{'platform adds':>15}")
        print(f"{lat:16.3f}{eng:10.3f}{lat - eng:15.3f}")

        started = time.perf_counter()
        with ThreadPoolExecutor(args.burst) as pool:
            ids = list(pool.map(lambda t: (t, stack.submit(t, data)), tokens[1:]))
            results = list(pool.map(lambda pair: stack.wait_graded(*pair, every=0.01), ids))
        wall = time.perf_counter() - started
        assert all(r["score"] == r["max_score"] for r in results), results
        print(f"\n{args.burst} submissions at once, one worker of concurrency 2")
        print(f"{'wall s':>8}{'per minute':>12}")
        print(f"{wall:8.2f}{args.burst / wall * 60:12.1f}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
