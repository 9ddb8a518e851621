"""Benchmark: the whole stack (HTTP API, Redis, one Celery worker of concurrency 2, Docker sandbox),
with warm sandboxes (sandbox/pool.py) and without, in the same run.

    .venv/bin/python bench/submissions.py [--latency-runs 5] [--lens-runs 3] [--burst 12]

Starts gunicorn and a Celery worker on a private SQLite database, Redis database 14 and media
folder (all under var/bench/; see bench/stack.py). For each mode (cold: SANDBOX_WARM_PAIRS=0; warm:
the default pool) it starts a fresh worker and prints:
- latency from POST to `graded` of the NumPy exercise (submissions spaced so the pool has refilled,
  as learners' submissions are), next to the engine's own time and what the platform adds;
- the same for a TransformerLens exercise (``--lens``);
- throughput: ``--burst`` learners each submit the NumPy exercise at once; submissions per minute.
Then, outside the platform, for a pair of a NumPy, a PyTorch and the TransformerLens exercise
(each preloads what its exercise imports): the memory one idle pair holds and the time a pool takes
to refill one (start to warm). It ends with the line
``p50 POST-to-graded normalize-rows: warm X s, cold Y s``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import NUMPY, ROOT, Stack  # noqa: E402

PORT = 8765
TORCH = ROOT / "exercises" / "einops-einsum" / "causal-attention-pattern"
MODES = {"cold": {"SANDBOX_WARM_PAIRS": "0"}, "warm": {"SANDBOX_WARM_PAIRS": "1"}}
# Between spaced submissions: a pool refills a NumPy pair in about 2 s on this machine.
SPACING_S = 4.0


def latency(stack: Stack, token: str, slug: str, data: bytes, runs: int, spacing: float) -> tuple[list, list]:
    """From sending the POST to the server's ``finished_at`` (this host's clock): polling fast enough
    to time it on the client would take the cores the grading needs."""
    posted, engine = [], []
    for _ in range(runs):
        time.sleep(spacing)
        started = time.time()
        body = stack.wait_graded(token, stack.submit(token, data, slug=slug), every=0.25)
        posted.append(datetime.fromisoformat(body["finished_at"]).timestamp() - started)
        engine.append(body["result"]["execution_time"])
        assert body["score"] == body["max_score"], body
    return posted, engine


def burst(stack: Stack, tokens: list[str], data: bytes) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(len(tokens)) as pool:
        ids = list(pool.map(lambda t: (t, stack.submit(t, data)), tokens))
        results = list(pool.map(lambda pair: stack.wait_graded(*pair, every=0.5), ids))
    assert all(r["score"] == r["max_score"] for r in results), results
    return time.perf_counter() - started


def pool_figures(slugs: dict[str, Path]) -> list[tuple[str, str, float, float | None]]:
    """(environment, preloaded modules, seconds from start to warm, idle MB) of one pair per exercise's shape."""
    from grader.bundle import load_bundle
    from grader.engine import EngineSettings, sandbox_job
    from sandbox import driver

    settings = EngineSettings.from_env()
    figures = []
    for path in slugs.values():
        bundle = load_bundle(path)
        started = time.monotonic()
        shape = sandbox_job(bundle, settings, b"").shape
        pair = driver.start_pair(shape)
        try:
            while not driver.is_warm(pair):
                time.sleep(0.05)
            warm_s = time.monotonic() - started
            time.sleep(1)
            preloads = ",".join(shape.preload) or "-"
            figures.append((bundle.environment, preloads, warm_s, driver.pair_memory_mb(pair)))
        finally:
            driver.remove(driver.docker_client(), pair.name)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--lens-runs", type=int, default=3)
    parser.add_argument("--lens", default="mi-tooling/activation-cache", help="module/exercise in the mi environment")
    parser.add_argument("--burst", type=int, default=12)
    args = parser.parse_args()
    lens = ROOT / "exercises" / args.lens
    stack = Stack("bench", PORT)
    stack.prepare(learners=args.burst + 1)
    tokens = [learner.token for learner in stack.learners]
    numpy_nb = (NUMPY / "solution.ipynb").read_bytes()
    lens_nb = (lens / "solution.ipynb").read_bytes()
    rows = {}
    try:
        stack.start_web()
        for mode, env in MODES.items():
            worker = stack.start_worker(env=env)
            try:
                # The first grading of a fresh worker (and, warm, the pool's first pairs, the mi one
                # importing TransformerLens) is not what learners wait for afterwards.
                stack.wait_graded(tokens[0], stack.submit(tokens[0], numpy_nb))
                # The instructor submits the lens exercise: its module is locked to the bench's learners.
                stack.wait_graded(stack.staff_token, stack.submit(stack.staff_token, lens_nb, slug=lens.name))
                time.sleep(45 if mode == "warm" else 0)
                numpy_lat = latency(stack, tokens[0], "normalize-rows", numpy_nb, args.latency_runs, SPACING_S)
                spacing = 45 if mode == "warm" else 1
                lens_lat = latency(stack, stack.staff_token, lens.name, lens_nb, args.lens_runs, spacing)
                time.sleep(SPACING_S)
                wall = burst(stack, tokens[1:], numpy_nb)
                rows[mode] = (numpy_lat, lens_lat, wall)
            finally:
                stack.signal(worker)
                stack.workers.remove(worker)
    finally:
        stack.stop()

    print(f"POST to graded, median (p50) over spaced submissions, seconds; burst of {args.burst} at once")
    print(f"{'mode':>6}{'exercise':>28}{'runs':>6}{'p50':>8}{'max':>8}{'engine':>8}{'platform':>10}")
    for mode, (numpy_lat, lens_lat, _) in rows.items():
        for name, (posted, engine) in (("normalize-rows", numpy_lat), (lens.name, lens_lat)):
            p50, eng = statistics.median(posted), statistics.median(engine)
            print(f"{mode:>6}{name:>28}{len(posted):>6}{p50:8.3f}{max(posted):8.3f}{eng:8.3f}{p50 - eng:10.3f}")
    print(f"\n{'mode':>6}{'burst wall s':>14}{'per minute':>12}")
    for mode, (_, _, wall) in rows.items():
        print(f"{mode:>6}{wall:14.2f}{args.burst / wall * 60:12.1f}")
    print(f"\n{'environment':>12}{'preloads':>34}{'start to warm s':>17}{'idle pair MB':>14}")
    for environment, preloads, warm_s, mb in pool_figures({"numpy": NUMPY, "torch": TORCH, "lens": lens}):
        print(f"{environment:>12}{preloads:>34}{warm_s:17.2f}{mb if mb is not None else float('nan'):14.1f}")
    warm, cold = (statistics.median(rows[m][0][0]) for m in ("warm", "cold"))
    print(f"\np50 POST-to-graded normalize-rows: warm {warm:.2f} s, cold {cold:.2f} s")


if __name__ == "__main__":
    main()
