"""Fair limits under load: the shipped reference notebooks graded while other work hogs the CPU.

    .venv/bin/python bench/loaded.py [--load 4] [--module numpy,einops-einsum] [--no-starvation-check]
                                     [--concurrency N]

Starts the platform as bench/stack.py does (one worker, its concurrency from admission control),
keeps ``--load`` busy-looping processes running (default: twice the cores, so every core is wanted
three times over), and submits every shipped exercise's reference notebook as staff. A reference
must get full marks: a time limit that fires on a starved host is graded again (up to
GRADING_STARVED_RETRIES) instead of becoming a ``timeout`` with 0 points. ``--no-starvation-check``
turns that off (SANDBOX_STARVED_STALL above 1), which is how the platform behaved before.
Prints one row per exercise (verdict, score, claims, the host's CPU stall over the last grading),
then the totals.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import ROOT, Stack  # noqa: E402

PORT = 8768


def spin(stop) -> None:
    while not stop.is_set():
        for _ in range(100_000):
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--module", default="", help="comma-separated modules (default: every module)")
    parser.add_argument("--no-starvation-check", action="store_true")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="the worker's gradings at once (default: admission control)"
    )
    args = parser.parse_args()
    settings = {"GRADING_STUCK_AFTER_S": "600", "GRADING_REQUEUE_EVERY_S": "10"}
    if args.no_starvation_check:
        settings["SANDBOX_STARVED_STALL"] = "1.5"
    stack = Stack("loaded", PORT, **settings)
    stack.prepare(learners=0)
    modules = [m for m in args.module.split(",") if m]
    bundles = sorted(
        p.parent
        for p in (ROOT / "exercises").glob("*/*/exercise.toml")
        if not p.parts[-3].startswith("_") and (not modules or p.parts[-3] in modules)
    )
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.load)]
    rows = []
    started = time.monotonic()
    try:
        stack.start_web()
        stack.start_worker(concurrency=args.concurrency)
        for proc in spinners:
            proc.start()
        token = stack.staff_token

        def grade(bundle: Path) -> tuple[str, dict, dict]:
            sid = stack.submit(token, (bundle / "solution.ipynb").read_bytes(), slug=bundle.name)
            body = stack.wait_graded(token, sid, timeout=3600, every=1.0)
            return f"{bundle.parent.name}/{bundle.name}", body, stack.audit([sid])["rows"][sid]

        with ThreadPoolExecutor(8) as pool:
            rows = list(pool.map(grade, bundles))
    finally:
        stop.set()
        for proc in spinners:
            proc.join(timeout=10)
        stack.stop()
    wall = time.monotonic() - started
    print(
        f"{len(bundles)} references, {args.load} busy processes on {os.cpu_count()} cores, "
        f"worker concurrency {args.concurrency or 'from admission control'}, "
        f"starvation check {'off' if args.no_starvation_check else 'on'}; wall {wall:.0f} s"
    )
    print(f"{'exercise':48}{'verdict':>17}{'score':>11}{'claims':>8}{'stall':>7}")
    full = 0
    for name, body, row in rows:
        result = body.get("result") or {}
        stall = (result.get("timings") or {}).get("host_cpu_stall")
        ok = body["status"] == "graded" and body["score"] == body["max_score"]
        full += ok
        score = f"{body['score'] or 0:g}/{body['max_score']:g}"
        stall_text = f"{stall:.0%}" if stall is not None else "-"
        print(f"{name:48}{body.get('verdict') or '-':>17}{score:>11}{row['attempts']:>8}{stall_text:>7}")
    print(f"full marks: {full} of {len(rows)}; claims beyond the first: {sum(r['attempts'] - 1 for *_, r in rows)}")
    return 0 if full == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
