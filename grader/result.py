"""The Result format (DESIGN.md, a superset of Gradescope's results.json) and its validation.

The judge's report is parsed here field by field: only known keys with the right types survive,
strings are capped, and scores are recomputed from the tests rather than taken as given.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from grader.notebook import valid_unicode


class Verdict(StrEnum):
    GRADED = "graded"
    TIMEOUT = "timeout"
    MEMORY_EXCEEDED = "memory_exceeded"
    CRASHED = "crashed"
    INVALID_NOTEBOOK = "invalid_notebook"
    INTERNAL_ERROR = "internal_error"


TEST_STATUSES = ("passed", "failed", "error", "timeout", "skipped")
CELL_STATUSES = ("ok", "error", "timeout", "crashed", "not_run")
VISIBILITIES = ("visible", "hidden")
# A cell's traceback in the Result; the kernel driver already keeps fewer (sandbox/runtime/kernel.py).
TRACEBACK_MAX_CHARS = 8000


class ReportError(ValueError):
    """The judge's report is not what the judge should have produced."""


@dataclass(frozen=True)
class TestResult:
    name: str
    score: float
    max_score: float
    status: str
    visibility: str
    output: str = ""
    # Seconds the test's body took in the judge, student calls included.
    duration: float = 0.0


@dataclass(frozen=True)
class CellResult:
    index: int
    status: str
    ename: str = ""
    evalue: str = ""
    # The learner's own frames, as plain text (library frames counted, not shown).
    traceback: str = ""


@dataclass(frozen=True)
class GradeResult:
    score: float
    max_score: float
    verdict: Verdict
    execution_time: float
    tests: list[TestResult] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    # Learner-facing summary, as Gradescope's top-level "output".
    output: str = ""
    # Seconds per stage (container_start, kernel_start, notebook, judging, teardown).
    timings: dict[str, float] = field(default_factory=dict)
    # The device the tests ran against ("cpu" or "cuda").
    device: str = "cpu"
    # The sandbox environment and the image (its content-hash tag) the notebook was graded in.
    environment: str = ""
    image: str = ""
    # What was adjusted in the learner's notebook before it ran (grader/normalize.py), for them to see.
    notebook_changes: list[str] = field(default_factory=list)
    # A time limit fired while the host was starved of CPU (grader/host_load.py): the timeout may be
    # the machine's, not the learner's, so the platform grades it again instead of keeping it.
    starved: bool = False
    # Facts for bundle authors (tests without a points marker, say); not part of the Result.
    authoring: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("authoring")
        data["verdict"] = str(self.verdict)
        return storable(data)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def with_environment(self, environment: str, image: str) -> GradeResult:
        return dataclasses.replace(self, environment=environment, image=image)

    @classmethod
    def failure(cls, verdict: Verdict, message: str, *, max_score: float, execution_time: float = 0.0) -> GradeResult:
        """A result with no test run: every point withheld, and the reason for the learner."""
        return cls(score=0.0, max_score=max_score, verdict=verdict, execution_time=execution_time, output=message)


def clean_text(text: str) -> str:
    """Valid Unicode without NUL: lone surrogates become U+FFFD, pairs written as two halves join."""
    return valid_unicode(text).replace("\x00", "\ufffd")


def storable(value: Any, non_finite: float | None = None) -> Any:
    """``value`` with every string cleaned and every non-finite float ``non_finite``: what every database stores."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else non_finite
    if isinstance(value, dict):
        return {clean_text(str(k)): storable(v, non_finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v, non_finite) for v in value]
    return value


def clip(text: Any, limit: int) -> str:
    """A clean string (see ``clean_text``) of at most ``limit`` characters, marking what was cut."""
    text = clean_text(text if isinstance(text, str) else str(text))
    if len(text) <= limit:
        return text
    marker = f"... [{len(text)} chars, cut]"
    return (text[: max(limit - len(marker), 0)] + marker)[:limit]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ReportError(f"{what} is not a finite number")
    return float(value)


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ReportError(f"{what} {value!r} is not one of {allowed}")
    return value


def parse_tests(raw: Any, *, max_chars: int) -> list[TestResult]:
    """Validate the judge's test list; a passed test keeps its points, any other status scores 0."""
    if not isinstance(raw, list):
        raise ReportError("tests is not a list")
    tests = []
    for item in raw[:1000]:
        if not isinstance(item, dict):
            raise ReportError("a test entry is not an object")
        max_score = _number(item.get("max_score"), "max_score")
        status = _choice(item.get("status"), TEST_STATUSES, "test status")
        tests.append(
            TestResult(
                name=clip(item.get("name", "?"), 200),
                score=max_score if status == "passed" else 0.0,
                max_score=max_score,
                status=status,
                visibility=_choice(item.get("visibility"), VISIBILITIES, "visibility"),
                output=clip(item.get("output", ""), max_chars),
                duration=_duration(item.get("duration")),
            )
        )
    return tests


def _duration(value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    return round(float(value), 4) if ok else 0.0


def parse_cells(raw: Any, *, max_chars: int) -> list[CellResult]:
    """Validate the cell report. It comes from the learner's container, so nothing in it is trusted."""
    if not isinstance(raw, list):
        return []
    cells = []
    for item in raw[:5000]:
        if not isinstance(item, dict) or item.get("status") not in CELL_STATUSES:
            continue
        index = item.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            continue
        cells.append(
            CellResult(
                index=index,
                status=item["status"],
                ename=clip(item.get("ename", ""), 200),
                evalue=clip(item.get("evalue", ""), max_chars),
                traceback=clip(item.get("traceback", ""), TRACEBACK_MAX_CHARS),
            )
        )
    return cells
