"""How a started container waits for its one grading (a warm sandbox).

The host starts the kernel and judge containers before any grading is known; each imports what
every grading of its environment needs, prints the warm mark on stdout and waits. Once a worker
claims the pair it copies in the grading's files and then one job file (the grading's settings, as
JSON) into a volume only root writes; the container reads it and goes on. A pair serves one job.
Outside the sandbox (the learner's own check) there is no job file: the settings are the config.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

POLL_S = 0.005  # a file check every 5 ms costs nothing measurable; each wait adds half of it to a grading
MAX_JOB_BYTES = 1 << 20


def announce_warm(config: dict[str, Any]) -> None:
    mark = config.get("warm_mark")
    if mark:
        sys.stdout.write(f"{mark}\n")
        sys.stdout.flush()


def wait_for_job(config: dict[str, Any]) -> dict[str, Any] | None:
    """The config with the job's settings added; None when no job came within ``claim_wait_s``."""
    path = config.get("job")
    if not path:
        return config
    deadline = time.monotonic() + float(config.get("claim_wait_s", 120))
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                job = json.loads(f.read(MAX_JOB_BYTES))
        except (OSError, ValueError):  # not there yet, or still being written
            time.sleep(POLL_S)
            continue
        if isinstance(job, dict):
            return config | job
        time.sleep(POLL_S)
    return None
