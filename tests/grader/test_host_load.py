"""The host's CPU stall (PSI) over a grading, and which results it makes starved."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from grader.engine import judge_host_load
from grader.host_load import PSI_CPU, CpuStallClock
from grader.result import CellResult, GradeResult, Verdict
from grader.result import TestResult as TestRow


def _psi(path, some_total_us: int) -> None:
    path.write_text(
        f"some avg10=1.00 avg60=2.00 avg300=3.00 total={some_total_us}\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )


def test_the_stall_is_the_share_of_wall_time_some_task_waited(tmp_path):
    psi = tmp_path / "cpu"
    _psi(psi, 1_000_000)
    before = CpuStallClock.read(psi)
    _psi(psi, 1_000_000 + 150_000)
    after = CpuStallClock(before.wall_s + 0.5, CpuStallClock.read(psi).stalled_us)
    assert after.stall_since(before) == pytest.approx(0.3)
    assert CpuStallClock(before.wall_s + 0.05, after.stalled_us).stall_since(before) == 1.0  # capped
    missing = CpuStallClock.read(tmp_path / "absent")
    assert missing.stalled_us is None and missing.stall_since(before) is None  # no PSI: no reading


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.skipif(not PSI_CPU.exists(), reason="this kernel has no pressure stall information")
def test_an_oversubscribed_host_reads_as_stalled():
    before = CpuStallClock.read()
    procs = [multiprocessing.Process(target=_spin, args=(1.5,)) for _ in range(3 * (os.cpu_count() or 1))]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    assert CpuStallClock.read().stall_since(before) > 0.5


def _result(verdict=Verdict.GRADED, test_status="passed", cell_status="ok") -> GradeResult:
    return GradeResult(
        score=1.0,
        max_score=1.0,
        verdict=verdict,
        execution_time=1.0,
        tests=[TestRow(name="t", score=1.0, max_score=1.0, status=test_status, visibility="hidden", output="")],
        cells=[CellResult(index=0, status=cell_status)],
    )


@pytest.mark.parametrize(
    ("result", "stall", "starved"),
    [
        (_result(Verdict.TIMEOUT), 0.9, True),
        (_result(test_status="timeout"), 0.9, True),
        (_result(cell_status="timeout"), 0.7, True),
        (_result(Verdict.TIMEOUT), 0.2, False),  # a quiet host: the timeout is the notebook's
        (_result(), 0.95, False),  # no limit fired: a busy host changes nothing
    ],
)
def test_a_time_limit_on_a_starved_host_is_marked_starved(result, stall, starved):
    judged = judge_host_load(result, stall, threshold=0.6)
    assert judged.starved is starved and judged.timings["host_cpu_stall"] == stall
    assert judged.to_dict()["starved"] is starved


def test_without_a_reading_nothing_changes():
    result = _result(Verdict.TIMEOUT)
    assert judge_host_load(result, None, threshold=0.6) == result
