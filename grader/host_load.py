"""How starved of CPU this host was over an interval: Linux's pressure stall information (PSI).

``/proc/pressure/cpu`` counts, in microseconds, the time during which at least one runnable task
waited for a CPU ("some"). Over a grading, that time divided by the wall time says how much of it
the host spent oversubscribed: near 0 on a quiet machine, near 1 when every core is wanted by more
than one task all along. A time limit that fired while the host was starved measures the host, not
the learner's code (grader/engine.py makes such a grading a retry instead of a verdict).

The file is host-wide (not namespaced), so a worker running in a container reads the host's
figure. Kernels without PSI (before 4.20, or booted with ``psi=0``) give no reading: then nothing
is ever called starved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

PSI_CPU = Path("/proc/pressure/cpu")


@dataclass(frozen=True)
class CpuStallClock:
    """One reading: the monotonic time and the host's cumulative CPU stall (None without PSI)."""

    wall_s: float
    stalled_us: int | None

    @classmethod
    def read(cls, path: Path = PSI_CPU) -> CpuStallClock:
        return cls(time.monotonic(), _some_total_us(path))

    def stall_since(self, earlier: CpuStallClock) -> float | None:
        """The share (0 to 1) of the wall time since ``earlier`` during which some task waited for a CPU."""
        wall_us = (self.wall_s - earlier.wall_s) * 1e6
        if self.stalled_us is None or earlier.stalled_us is None or wall_us <= 0:
            return None
        return min(1.0, max(0.0, (self.stalled_us - earlier.stalled_us) / wall_us))


def _some_total_us(path: Path) -> int | None:
    try:
        for line in path.read_text().splitlines():
            kind, *fields = line.split()
            if kind == "some":
                return int(dict(f.split("=", 1) for f in fields)["total"])
    except (OSError, ValueError, KeyError):
        return None
    return None
