"""GPU proof: the exercises with gpu = "optional" or "required", graded on CUDA without Docker.

    python bench/gpu_proof.py [--device cuda] [--budget-s 600]

For a machine with an NVIDIA GPU where Docker may be missing: the kernel runtime and the judge run
as local processes (sandbox/runtime/local.py, the code the sandbox runs), the notebook normalised as
the engine does, each exercise's reference notebook executed in the kernel process and its tests
(hidden ones included) run in this process against ``--device`` (the `device` fixture), so tensors
the notebook made on the GPU cross from the kernel to the judge. Needs torch with CUDA, numpy,
pytest, nbclient and ipykernel (the project's packages). Prints the device, then per exercise the
score, the tests that did not pass, and the time; exit 1 unless every reference gets full marks.
Bounded: each exercise's own limits apply, and the whole run stops after ``--budget-s`` (600).
Never part of the test suite; with ``--device cpu`` it runs anywhere.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.bundle import load_bundle  # noqa: E402
from grader.normalize import prepare  # noqa: E402
from grader.starter import bundle_codecs  # noqa: E402


def gpu_bundles() -> list[Path]:
    return sorted(
        p.parent
        for p in (ROOT / "exercises").glob("*/*/exercise.toml")
        if load_bundle(p.parent).gpu in ("optional", "required")
    )


def grade_locally(path: Path, device: str, timeout_s: float) -> dict:
    """Score, max score, the tests that did not pass and seconds of ``path``'s reference on ``device``.

    In a fresh interpreter per exercise (one judge per process, as in the sandbox), with the runtime
    importable as ``sandbox_runtime``, the name the kernel process imports it by.
    """
    bundle = load_bundle(path)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gpu-proof-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "sandbox" / "runtime", work / "sandbox_runtime")
        notebook = work / "solution.ipynb"
        notebook.write_text(json.dumps(prepare((path / "solution.ipynb").read_bytes(), bundle.limits).notebook))
        data = work / "data"
        data.mkdir()
        for name, source in bundle.data_map().items():
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, data / name)
        codecs = [c.as_dict() for c in bundle_codecs(bundle)]
        job = {"notebook": str(notebook), "tests": str(bundle.tests_dir), "data": str(data), "root": tmp}
        job |= {"codecs": codecs, "device": device}
        done = subprocess.run(
            [sys.executable, __file__, "--one", json.dumps(job)], capture_output=True, text=True, timeout=timeout_s
        )
    if done.returncode:
        return {"score": 0.0, "max_score": 0.0, "failed": [done.stderr[-2000:]], "seconds": time.monotonic() - started}
    tests = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "score": sum(t.get("max_score", 0.0) for t in tests if t.get("status") == "passed"),
        "max_score": sum(t.get("max_score", 0.0) for t in tests),
        "failed": [
            f"{t.get('name')}: {t.get('status')} {t.get('output', '')[:300]}"
            for t in tests
            if t.get("status") != "passed"
        ],
        "seconds": time.monotonic() - started,
    }


def one(job: dict) -> None:
    """The child: run the reference and its tests, print the tests' results as one JSON line."""
    sys.path.insert(0, job["root"])
    from sandbox_runtime.local import check

    report = check(
        Path(job["notebook"]),
        Path(job["tests"]),
        Path(job["data"]),
        package_root=Path(job["root"]),
        codecs=job["codecs"],
        device=job["device"],
    )
    print(json.dumps(report.get("tests") or []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget-s", type=float, default=600.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(json.loads(args.one))
        return 0
    import torch

    if args.device == "cuda":
        if not torch.cuda.is_available():
            print("no CUDA device here: run with --device cpu, or on a GPU machine", file=sys.stderr)
            return 2
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        print(f"device: {args.device}, torch {torch.__version__}")
    deadline = time.monotonic() + args.budget_s
    all_full = True
    for path in gpu_bundles():
        if time.monotonic() > deadline:
            print(f"{path.parent.name}/{path.name}: not run (the {args.budget_s:.0f} s budget is spent)")
            all_full = False
            continue
        got = grade_locally(path, args.device, max(30.0, deadline - time.monotonic()))
        all_full &= got["score"] == got["max_score"] > 0
        print(f"{path.parent.name}/{path.name}: {got['score']:g}/{got['max_score']:g} in {got['seconds']:.1f} s")
        for line in got["failed"]:
            print(f"    {line}")
    return 0 if all_full else 1


if __name__ == "__main__":
    sys.exit(main())
