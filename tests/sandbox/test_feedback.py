"""What a learner sees of a failing hidden test (sandbox/runtime/feedback.py), without Docker."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sandbox.runtime.feedback import HIDDEN_CHECK, HintSource, NotebookSource, judge_error, learner_error

SECRET = 0.123456789

HIDDEN = """
import numpy as np
import pytest
import torch

EXPECTED = np.array([0.123456789, 2.5])

def check_plain(out):
    assert np.allclose(out, EXPECTED)

def check_literal(out):
    assert np.allclose(out, EXPECTED), "each row should have unit norm"

def check_fstring(out):
    assert np.allclose(out, EXPECTED), f"expected {EXPECTED}, got {out}: rows need unit norm"

def check_numpy_helper(out):
    np.testing.assert_allclose(out, EXPECTED)

def check_numpy_helper_hint(out):
    np.testing.assert_allclose(out, EXPECTED, err_msg="Hint: divide by the norm")

def check_torch(out):
    torch.testing.assert_close(torch.tensor(out), torch.tensor(EXPECTED), msg=lambda m: m)

def check_format(out):
    assert out[0] == 1, "row {} is {}".format(0, out[0]) + " (normalise first)"

def check_percent(out):
    assert out[0] == 1, "row %d is %.3f" % (0, out[0])

def check_raises(fn):
    with pytest.raises(ValueError):
        fn()

def check_index(out):
    return EXPECTED[out]
"""


@pytest.fixture
def checks(tmp_path):
    path = tmp_path / "test_hidden.py"
    path.write_text(textwrap.dedent(HIDDEN))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace, HintSource.read([path])


def _failure(fn, *args) -> BaseException:
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001 - Failed is a BaseException
        return exc
    raise AssertionError("expected a failure")


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("check_plain", HIDDEN_CHECK),
        ("check_literal", "each row should have unit norm"),
        ("check_fstring", "expected …, got …: rows need unit norm"),
        ("check_numpy_helper", HIDDEN_CHECK),
        ("check_numpy_helper_hint", "Hint: divide by the norm"),
        ("check_torch", HIDDEN_CHECK),
        ("check_format", "row … is … (normalise first)"),
        ("check_percent", "row … is …"),
    ],
)
def test_hidden_messages_are_the_authors_text_never_a_value(checks, check, expected):
    namespace, sources = checks
    exc = _failure(namespace[check], np.array([9.87654321, 1.0]))
    shown = judge_error(exc, sources)
    assert shown == expected
    for value in ("0.123", "9.876", "2.5", "array"):
        assert value not in shown


def test_other_hidden_failures_name_no_value(checks):
    namespace, sources = checks
    assert "did not raise" in judge_error(_failure(namespace["check_raises"], lambda: None), sources)
    shown = judge_error(_failure(namespace["check_index"], 7), sources)
    assert shown == f"{HIDDEN_CHECK} (IndexError in the check)" and "7" not in shown


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "source": "# notes"},
        {
            "cell_type": "code",
            "source": ["class ShapeError(Exception):\n", "    pass\n", "def f(x):\n", "    return 1 / x\n"],
        },
    ]
}


def test_learner_errors_show_type_and_their_own_lines_only(tmp_path: Path):
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(NOTEBOOK))
    notebook = NotebookSource.read(path)
    echoed = "c2VjcmV0IGlucHV0"  # what a learner's code could put anywhere it controls
    text = (
        'File "/tmp/ipykernel_1/1.py", line 4, in f\n    return 1 / x\n'
        f'File "/tmp/ipykernel_1/1.py", line 9, in {echoed}\n    return 1 / x\n'
        f'File "/tmp/ipykernel_1/1.py", line 5, in f\n    raise ValueError("{echoed}")\n'
    )
    shown = learner_error("f(...)", "ZeroDivisionError", text, notebook)
    assert "ZeroDivisionError" in shown and "line 4, in f: return 1 / x" in shown
    assert echoed not in shown and "line 9" not in shown and "line 5" not in shown
    assert "raised ShapeError" in learner_error("f(...)", "ShapeError", "", notebook)
    assert f"raised {echoed}" not in learner_error("f(...)", echoed, "", notebook)
    assert "raised an exception" in learner_error("f(...)", echoed, "", notebook)
