"""Run an exercise's visible tests against a notebook on the learner's own machine, without Docker.

The same code as the sandbox: the kernel driver runs the notebook in a subprocess and serves its
namespace on a Unix socket; the tests run here, in-process, with the same ``student`` fixture.
Used by the starter pack's ``check.py`` (where this package is ``sandbox_runtime``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CODECS_FILE = "codecs.json"  # the starter pack's [[codec]] declarations, as the judge gets them


def check(
    notebook: Path,
    tests: Path,
    data: Path | None,
    *,
    package_root: Path,
    codecs: list[dict[str, Any]] | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Execute ``notebook`` and run the tests in ``tests`` against ``device``; returns the judge's report."""
    from . import judge  # pytest: only where tests run, never where a starter pack is built

    with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
        ipc, empty = Path(tmp) / "ipc", Path(tmp) / "empty"
        ipc.mkdir()
        empty.mkdir()
        config = {
            "timeout_s": 600,
            "cell_timeout_s": 300,
            "serve_s": 3600,
            "ipc": str(ipc),
            "input": str(data if data and data.is_dir() else empty),
            "work": str(Path(tmp) / "work"),
            "notebook": str(notebook.resolve()),
        }
        env = dict(
            os.environ,
            GRADER_KERNEL=json.dumps(config),
            PYTHONPATH=os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])),
        )
        kernel = subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.kernel"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return judge.run_tests(
                    {
                        "ipc": str(ipc),
                        "tests": str(tests),
                        "notebook": str(notebook.resolve()),
                        "device": device,
                        "kernel_wait_s": 620,
                        "judge_budget_s": 3600,
                        "test_timeout_s": 120,
                        "max_message_bytes": 1 << 30,
                        "max_output_chars": 4000,
                        "codecs": codecs or [],
                    }
                )
        finally:
            kernel.terminate()
            kernel.wait(timeout=30)


def main(pack: Path, argv: list[str]) -> int:
    notebooks = sorted(p for p in pack.glob("*.ipynb"))
    notebook = Path(argv[0]) if argv else (notebooks[0] if len(notebooks) == 1 else None)
    if notebook is None or not notebook.is_file():
        print("usage: python check.py [your-notebook.ipynb]", file=sys.stderr)
        return 2
    codecs_file = pack / CODECS_FILE
    codecs = json.loads(codecs_file.read_text()) if codecs_file.is_file() else []
    report = check(notebook, pack / "tests", pack / "data", package_root=pack, codecs=codecs)
    kernel = report.get("kernel") or {}
    for cell in kernel.get("cells") or []:
        if cell.get("status") not in ("ok", "not_run"):
            print(f"cell {cell['index']}: {cell['status']} {cell.get('ename', '')}: {cell.get('evalue', '')}")
            if cell.get("traceback"):
                print("  " + cell["traceback"].replace("\n", "\n  "))
    earned = sum(t["max_score"] for t in report["tests"] if t["status"] == "passed")
    total = sum(t["max_score"] for t in report["tests"])
    for test in report["tests"]:
        print(f"{'PASS' if test['status'] == 'passed' else 'FAIL'}  {test['name']}  ({test['max_score']:g} pt)")
        if test["status"] != "passed":
            print("      " + test["output"].strip().replace("\n", "\n      "))
    for error in report.get("collect_errors") or []:
        print(f"could not load the tests: {error}")
    print(f"\nvisible tests: {earned:g}/{total:g} points (the hidden tests are run when you submit)")
    return 0 if report["tests"] and earned == total else 1
