"""``python -m grader.demo``: grade every shipped exercise's reference and template, print a table.

The reference must get full marks and the template less; the exit status says whether they did.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from grader.bundle import load_bundle
from grader.engine import EngineSettings, grade
from grader.template import make_template

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"


def main() -> int:
    settings = EngineSettings.from_env()
    bundles = [load_bundle(p.parent) for p in sorted(EXERCISES.glob("*/*/exercise.toml"))]
    print(f"grading {len(bundles)} exercises in the sandbox image {settings.image}\n")
    print(f"{'exercise':40} {'notebook':10} {'verdict':10} {'score':>9} {'seconds':>8}  ok")
    failures = 0
    for bundle in bundles:
        solution = (bundle.path / "solution.ipynb").read_bytes()
        template = json.dumps(make_template(json.loads(solution))).encode()
        for kind, notebook in (("reference", solution), ("template", template)):
            started = time.monotonic()
            result = grade(bundle, notebook, settings)
            full = result.score == result.max_score
            ok = full if kind == "reference" else not full
            failures += not ok
            print(
                f"{bundle.module + '/' + bundle.slug:40} {kind:10} {result.verdict:10} "
                f"{result.score:4g}/{result.max_score:<4g} {time.monotonic() - started:8.2f}  {'yes' if ok else 'NO'}"
            )
    print("\nall exercises behave as expected" if not failures else f"\n{failures} grading(s) not as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
