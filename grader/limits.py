"""Sandbox limits: one typed object with defaults, a ceiling, and the per-bundle override rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Resource limits for one grading. Every field has a default that suits a small exercise."""

    # Wall-clock budget for executing the whole notebook in the kernel container.
    timeout_s: float = 60.0
    # One cell may not run longer than this; the kernel is interrupted and the next cell runs.
    cell_timeout_s: float = 30.0
    # Memory of the kernel container; swap is set equal so the container never swaps.
    memory_mb: int = 2048
    # CPU quota of each container, in cores.
    cpus: float = 1.0
    # Processes and threads in the kernel container: stops fork bombs, leaves room for torch threads.
    pids: int = 256
    # Size of the writable scratch (tmpfs) in the kernel container; counts against memory.
    scratch_mb: int = 256
    # Wall-clock budget for one test in the judge, student calls included.
    test_timeout_s: float = 20.0
    # Wall-clock budget for the whole test run in the judge.
    tests_timeout_s: float = 120.0
    # Memory of the judge container (it holds decoded learner results).
    judge_memory_mb: int = 2048
    # The largest single message (a returned array, say) the judge accepts from the kernel.
    max_message_mb: int = 256
    # The notebook file as uploaded.
    max_notebook_kb: int = 2048
    # Cells in the notebook.
    max_cells: int = 500
    # Text kept per test output and per cell error shown to the learner.
    max_output_chars: int = 2000

    def override(self, values: dict[str, Any], *, ceiling: Limits | None = None) -> Limits:
        """A copy with ``values`` applied; unknown keys, wrong types or values above ``ceiling`` raise ValueError."""
        ceiling = ceiling or MAX_LIMITS
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in fields:
                raise ValueError(f"unknown limit {key!r} (known: {', '.join(sorted(fields))})")
            kind = type(getattr(self, key))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"limit {key!r} must be a number, not {type(value).__name__}")
            if kind is int and not isinstance(value, int):
                raise ValueError(f"limit {key!r} must be a whole number")
            if value <= 0:
                raise ValueError(f"limit {key!r} must be positive")
            maximum = getattr(ceiling, key)
            if value > maximum:
                raise ValueError(f"limit {key!r} = {value} is above the maximum {maximum}")
            changes[key] = kind(value)
        return dataclasses.replace(self, **changes)

    @property
    def judge_deadline_s(self) -> float:
        """How long the judge may wait for the kernel and then run every test."""
        return self.timeout_s + self.tests_timeout_s + 15.0

    @property
    def host_deadline_s(self) -> float:
        """After this the host kills both containers, whatever they are doing."""
        return self.judge_deadline_s + 15.0


# What a bundle's exercise.toml may raise a limit to.
MAX_LIMITS = Limits(
    timeout_s=600.0,
    cell_timeout_s=600.0,
    memory_mb=16384,
    cpus=8.0,
    pids=1024,
    scratch_mb=2048,
    test_timeout_s=300.0,
    tests_timeout_s=900.0,
    judge_memory_mb=8192,
    max_message_mb=1024,
    max_notebook_kb=20480,
    max_cells=2000,
    max_output_chars=20000,
)

DEFAULT_LIMITS = Limits()
