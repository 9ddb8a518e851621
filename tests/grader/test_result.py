import math

import pytest

from grader.result import TRACEBACK_MAX_CHARS, ReportError, clip, parse_cells, parse_tests


def test_scores_follow_status_not_the_claimed_score():
    tests = parse_tests(
        [
            {"name": "a", "score": 99, "max_score": 2, "status": "failed", "visibility": "hidden"},
            {"name": "b", "max_score": 3, "status": "passed", "visibility": "visible", "output": "x" * 50},
        ],
        max_chars=30,
    )
    assert [(t.score, t.max_score) for t in tests] == [(0.0, 2.0), (3.0, 3.0)]
    assert len(tests[1].output) == 30 and "cut" in tests[1].output


@pytest.mark.parametrize(
    "raw",
    [
        {"tests": []},
        [{"name": "a", "max_score": math.inf, "status": "passed", "visibility": "hidden"}],
        [{"name": "a", "max_score": 1, "status": "great", "visibility": "hidden"}],
        [{"name": "a", "max_score": 1, "status": "passed", "visibility": "public"}],
        ["not a dict"],
    ],
)
def test_malformed_reports_are_refused(raw):
    with pytest.raises(ReportError):
        parse_tests(raw, max_chars=100)


def test_cells_from_the_kernel_are_filtered_not_trusted():
    cells = parse_cells(
        [
            {"index": 1, "status": "ok"},
            {"index": "2", "status": "ok"},
            {"index": 3, "status": "hacked"},
            "junk",
            {"index": 4, "status": "error", "ename": "E" * 500, "evalue": "v", "traceback": "T" * 20000},
        ],
        max_chars=100,
    )
    assert [c.index for c in cells] == [1, 4]
    assert len(cells[1].ename) == 200
    assert len(cells[1].traceback) == TRACEBACK_MAX_CHARS and cells[1].traceback.endswith("cut]")
    assert cells[0].traceback == ""
    assert parse_cells("nonsense", max_chars=10) == []


def test_clip():
    assert clip("short", 10) == "short"
    assert clip(12345, 10) == "12345"
