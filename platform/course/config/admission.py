"""How many gradings one worker runs at once when nobody says: what the host's cores and memory admit.

A grading holds a kernel container and a judge container (by default 1 core, 2 GB each; the judge
mostly waits while the notebook runs). Running more gradings than the host has room for turns wall-
clock limits into a measure of the machine (the reference notebooks of a busy host time out), so a
worker's default concurrency is the smaller of its cores per slot and its memory per slot.
"""

from __future__ import annotations

import os
from pathlib import Path


def total_memory_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def usable_cpus() -> int:
    """The cores this process may run on (its affinity), as the scheduler sees them."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def grading_slots(
    *, slot_cpus: float, slot_memory_mb: int, cpus: int | None = None, memory_mb: int | None = None
) -> int:
    """At least one; otherwise as many slots as both the cores and the memory hold."""
    cpus = cpus if cpus is not None else usable_cpus()
    memory_mb = memory_mb if memory_mb is not None else total_memory_mb()
    by_cpu = int(cpus // slot_cpus)
    by_memory = memory_mb // slot_memory_mb if memory_mb else by_cpu
    return max(1, min(by_cpu, by_memory))


def warm_sandboxes_memory_mb() -> int:
    """What one grading process's warm sandboxes may hold (0 when the pool is off)."""
    from sandbox.pool import PoolSettings

    settings = PoolSettings.from_env()
    return settings.memory_mb if settings.enabled else 0
