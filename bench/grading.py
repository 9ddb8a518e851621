"""Benchmark: where the time of one grading goes, against the bare floor, and parallel scaling.

    .venv/bin/python bench/grading.py [--repeat 5] [--parallel 1,2,4]

For each shipped exercise (a tiny NumPy one, a PyTorch/einops one and a TransformerLens one in the
``mi`` environment) it grades the reference notebook ``--repeat`` times and prints the median of
each stage (container start, kernel start, the environment's heavy imports before the learner's
clock, notebook execution, judging, teardown) and of the whole grading, next to the bare floor: the
same notebook executed in this process by nbclient on the host, with no sandbox and no tests (not
for ``mi``: the host has no TransformerLens).
Then it grades ``n`` notebooks at once for each ``n`` in ``--parallel`` and prints throughput.
The kernel start logs a warning about ZMQ over TCP; inside the sandbox that loopback has no network.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.bundle import load_bundle  # noqa: E402
from grader.engine import EngineSettings, grade  # noqa: E402
from sandbox import image  # noqa: E402

EXERCISES = {
    "numpy": ROOT / "exercises" / "numpy" / "normalize-rows",
    "pytorch": ROOT / "exercises" / "einops-einsum" / "causal-attention-pattern",
    "lens": ROOT / "exercises" / "mi-tooling" / "induction-heads",
}
STAGES = ("container_start", "kernel_start", "preload", "notebook", "judging", "teardown")


def bare_floor(notebook: Path) -> float:
    """Seconds to execute the notebook in-process with nbclient (kernel start included)."""
    if load_bundle(notebook.parent).environment != "base":
        return float("nan")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return time.perf_counter() - started


def sandboxed(bundle: Path, settings: EngineSettings) -> tuple[float, dict[str, float]]:
    data = (bundle / "solution.ipynb").read_bytes()
    started = time.perf_counter()
    result = grade(bundle, data, settings)
    elapsed = time.perf_counter() - started
    if result.score != result.max_score:
        raise SystemExit(f"{bundle.name}: reference scored {result.score}/{result.max_score}: {result.output}")
    return elapsed, result.timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parallel", default="1,2,4")
    args = parser.parse_args()
    settings = EngineSettings(
        image=image.build("base", log=lambda _: None), environments={"mi": image.build("mi", log=lambda _: None)}
    )
    for bundle in EXERCISES.values():  # warm the page cache and Docker's image layers
        sandboxed(bundle, settings)
        bare_floor(bundle / "solution.ipynb")

    print(f"median of {args.repeat} runs, seconds")
    header = f"{'exercise':10}" + "".join(f"{s:>16}" for s in STAGES) + f"{'sandboxed':>11}{'bare floor':>12}"
    header += f"{'overhead':>10}{'ratio':>7}"
    print(header)
    for name, bundle in EXERCISES.items():
        runs = [sandboxed(bundle, settings) for _ in range(args.repeat)]
        floors = [bare_floor(bundle / "solution.ipynb") for _ in range(args.repeat)]
        total = statistics.median(r[0] for r in runs)
        floor = statistics.median(floors)
        stages = [statistics.median(r[1].get(s, float("nan")) for r in runs) for s in STAGES]
        row = f"{name:10}" + "".join(f"{v:16.3f}" for v in stages)
        row += f"{total:11.3f}{floor:12.3f}{total - floor:10.3f}{total / floor:7.2f}"
        print(row)

    print("\nparallel gradings (reference notebooks)")
    print(f"{'exercise':10}{'at once':>8}{'gradings':>10}{'wall s':>9}{'per minute':>12}{'mean latency s':>16}")
    for name, bundle in EXERCISES.items():
        for n in (int(x) for x in args.parallel.split(",")):
            count = max(n * 3, 4)
            started = time.perf_counter()
            with ThreadPoolExecutor(n) as pool:
                latencies = [r[0] for r in pool.map(lambda _, b=bundle: sandboxed(b, settings), range(count))]
            wall = time.perf_counter() - started
            print(f"{name:10}{n:8}{count:10}{wall:9.2f}{count / wall * 60:12.1f}{statistics.mean(latencies):16.2f}")


if __name__ == "__main__":
    main()
