"""Grading that cannot be gamed (issue 12), against real Docker: one test per weakness found.

The outcome each asserts: full marks kept where earned, no expected value or hidden literal in any
output, no ``internal_error`` the learner can cause, a storable Result, bounded judge time.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from grader.result import Verdict
from tests.sandbox.support import FAST, RIGHT_ADD
from tests.sandbox.support import grade_bounded as _grade
from tests.support import EXERCISES, notebook

pytestmark = pytest.mark.docker

NORMALIZE = EXERCISES / "numpy" / "normalize-rows"


def _solution(bundle) -> str:
    """The code cells of a shipped bundle's reference notebook, as one cell."""
    cells = json.loads((bundle / "solution.ipynb").read_text())["cells"]
    return "".join("".join(c["source"]) + "\n" for c in cells if c["cell_type"] == "code")


SOLUTION = _solution(NORMALIZE)


# --- 1: no expected values, no echoed inputs ------------------------------------------------------

# Returns its input unchanged, and (for inputs it was not shown) raises with the input encoded.
ECHO_NB = """
import base64
import numpy as np

def normalize_rows(x):
    if x.shape == (5, 7):
        raise ValueError(base64.b64encode(x.tobytes()).decode() + repr(x[::-1]))
    return x
"""


def test_hidden_outputs_show_no_expected_or_input_values(sandbox_settings):
    result = _grade(NORMALIZE, notebook(ECHO_NB), sandbox_settings)
    hidden = [t for t in result.tests if t.visibility == "hidden"]
    assert hidden and all(t.status != "passed" or t.output == "" for t in hidden)
    for test in hidden:
        # No array, no number with decimals, no base64 blob: only hints and the learner's own lines.
        assert "array(" not in test.output and not re.search(r"\d\.\d", test.output), test.output
        assert not re.search(r"[A-Za-z0-9+/]{24,}", test.output), test.output
    random_matrix = next(t for t in hidden if t.name == "test_random_matrix")
    assert "raised ValueError" in random_matrix.output and "b64encode" in random_matrix.output


def test_parametrized_hidden_tests_do_not_show_their_values(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.points(1)
        @pytest.mark.parametrize("secret_word", ["swordfish", "hunter22"])
        def test_word(student, secret_word):
            assert student.same(secret_word) == secret_word, f"same() changed {secret_word!r}"
        """,
        limits=FAST,
        points=2,
    )
    result = _grade(bundle, notebook("def same(w):\n    return w[::-1]"), sandbox_settings)
    assert [t.name for t in result.tests] == ["test_word[1]", "test_word[2]"]
    text = result.to_json()
    for word in ("swordfish", "hunter22", "hsifdrows", "22retnuh"):
        assert word not in text
    assert all(t.output == "same() changed …" for t in result.tests)


# --- 2: a report the learner cannot cut -----------------------------------------------------------


def test_huge_error_messages_are_cut_not_fatal(sandbox_settings):
    cells = [SOLUTION] + [f"raise ValueError('{'😀' * 4000}')" for _ in range(30)]
    result = _grade(NORMALIZE, notebook(*cells), sandbox_settings)
    assert result.verdict == Verdict.GRADED and result.score == result.max_score, result.output
    errors = [c for c in result.cells if c.status == "error"]
    assert len(errors) == 30
    assert any("[cut: your notebook's error messages passed" in c.evalue + c.traceback for c in errors)
    assert len(result.to_json()) < 2_000_000


# --- 3: status from a trusted process --------------------------------------------------------------

# The notebook tries to forge its status and then never finishes, with its own server running.
FORGE_NB = (
    RIGHT_ADD
    + """
import json, os, threading
forged = []
for target in ("/status/ready", "/status/fifo", "/ipc/ready"):
    try:
        if target.endswith("fifo"):
            os.mkfifo(target)
        else:
            with open(target, "w") as f:
                json.dump({"status": "ok", "serving": True, "cells": [], "kernel_up": float("inf")}, f)
        forged.append(target)
    except OSError:
        pass
from sandbox_runtime import kernel_server
kernel_server.serve(globals(), "/ipc/kernel.sock")
while True:
    pass
"""
)


def test_a_notebook_cannot_write_its_own_status(add_bundle, sandbox_settings):
    started = time.monotonic()
    result = _grade(add_bundle, notebook(FORGE_NB), sandbox_settings)
    assert time.monotonic() - started < 60  # no blocked judge
    # The driver, not the notebook, says how the run went: its last cell was stopped.
    assert result.verdict == Verdict.TIMEOUT, result.to_dict()
    assert [c.status for c in result.cells] == ["timeout"]
    assert all(v == v and v != float("inf") for v in result.timings.values())


# --- 4 and 6: every result storable; duplicate names kept apart -----------------------------------


def test_nul_and_surrogates_from_the_learner_are_stored_clean(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.points(1)
        @pytest.mark.visible
        def test_visible(student):
            student.boom()
        """,
        limits=FAST,
    )
    nb = notebook('def boom():\n    raise ValueError("nul \\x00 and \\ud800 surrogate")', 'x = "\\ud800"')
    result = _grade(bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.GRADED
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogate left
    assert "nul \ufffd and \ufffd surrogate" in text  # the learner's message, cleaned


def test_a_test_name_in_two_files_gives_two_rows(make_bundle, sandbox_settings):
    bundle = make_bundle("import pytest\n\n@pytest.mark.points(1)\ndef test_x(student):\n    assert student.x == 1\n")
    (bundle / "tests" / "test_other.py").write_text(
        "import pytest\n\n@pytest.mark.points(1)\ndef test_x(student):\n    assert student.x == 2\n"
    )
    result = _grade(bundle, notebook("x = 1"), sandbox_settings)
    assert sorted((t.name, t.status) for t in result.tests) == [
        ("test_other.py::test_x", "failed"),
        ("test_probe.py::test_x", "passed"),
    ]


# --- 5: facts only the kernel reports give no points -----------------------------------------------

FORGE_FACTS = """
import sandbox_runtime.wire as wire
original = wire._encode_array_like
def lying(value, blobs):
    tree = original(value, blobs)
    if tree is not None and tree.get("__t") == "tensor":
        tree["device"] = "cuda:0"
    return tree
wire._encode_array_like = lying
"""


def test_a_forged_device_earns_nothing(sandbox_settings):
    bundle = EXERCISES / "pytorch" / "standardize-on-device"
    solution = _solution(bundle)
    honest = _grade(bundle, notebook(solution), sandbox_settings)
    forged = _grade(bundle, notebook(solution, FORGE_FACTS), sandbox_settings)
    assert honest.score == forged.score == honest.max_score
    advisory = {t.name: t for t in forged.tests if t.max_score == 0}
    assert advisory["test_result_on_the_requested_device"].status == "failed"  # the claim is seen, and worth 0


# --- 7: the smaller ones ----------------------------------------------------------------------------


def test_a_timed_out_reply_is_never_read_as_the_next_answer(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.points(1)
        def test_slow(student):
            student.slow()

        @pytest.mark.points(1)
        def test_after(student):
            assert student.small() == 7
        """,
        limits=FAST | {"test_timeout_s": 2},
        points=2,
    )
    nb = notebook(
        "import time\ndef slow():\n    time.sleep(3)\n    return list(range(10**6))\ndef small():\n    return 7"
    )
    result = _grade(bundle, nb, sandbox_settings)
    assert {t.name: t.status for t in result.tests} == {"test_slow": "timeout", "test_after": "passed"}


def test_lone_surrogate_in_a_code_cell_is_graded(add_bundle, sandbox_settings):
    source = RIGHT_ADD + '\nlabel = "\ud800"'
    nb = notebook(source.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass"))
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.GRADED and result.score == 1, result.to_dict()
    assert any("surrogates" in change for change in result.notebook_changes)


def test_a_fixture_calling_slow_learner_code_is_bounded(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.fixture(scope="module")
        def model(student):
            return student.build()

        @pytest.mark.points(1)
        def test_model(model):
            assert model == 1
        """,
        limits=FAST,
    )
    started = time.monotonic()
    result = _grade(
        bundle, notebook("import time\ndef build():\n    while True:\n        time.sleep(1)"), sandbox_settings
    )
    assert time.monotonic() - started < 90
    assert [t.status for t in result.tests] == ["timeout"]
