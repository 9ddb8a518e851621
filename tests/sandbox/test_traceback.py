"""The learner's traceback in the cell report: plain text, their own frames, bounded."""

from __future__ import annotations

from sandbox.runtime.kernel import TRACEBACK_CHARS, learner_traceback

RED, RESET = "\x1b[0;31m", "\x1b[0m"
NUMPY = "/usr/local/lib/python3.11/site-packages/numpy/core"
# What IPython 8 sends for an error raised inside NumPy, called from two of the learner's cells.
FRAMES = [
    f"{RED}---------------------------------------------------------------------------{RESET}\n"
    f"{RED}ValueError{RESET}                                Traceback (most recent call last)",
    f"Cell {RED}In[3]{RESET}, line 2\n      1 # the learner's mistake\n"
    f"{RED}----> 2{RESET} reshape_all([np.arange(15)])",
    f"Cell {RED}In[2]{RESET}, line 2, in reshape_all(xs)\n"
    f"{RED}----> 2{RESET} return [np.reshape(x, (4, 4)) for x in xs]",
    f"File {RED}{NUMPY}/fromnumeric.py:285{RESET}, in reshape(a)\n  return x",
    f"File {RED}{NUMPY}/fromnumeric.py:59{RESET}, in _wrapfunc(obj)\n  x",
    f"File {RED}/tmp/work/helpers.py:3{RESET}, in check(x)\n----> 3 raise ValueError(x)",
    f"{RED}ValueError{RESET}: cannot reshape array of size 15 into shape (4,4)",
]


def test_plain_text_with_cells_named_by_index_and_library_frames_counted():
    text = learner_traceback(FRAMES, {1: 0, 2: 1, 3: 2}, "/tmp/work")
    assert "\x1b" not in text
    assert "Cell 2, line 2" in text and "Cell 1, line 2, in reshape_all(xs)" in text
    assert "In[" not in text and "-----" not in text
    assert text.startswith("ValueError Traceback (most recent call last)\n\nCell 2, line 2")
    assert "fromnumeric" not in text and "[2 frame(s) inside libraries not shown]" in text
    # Files beside the notebook (the bundle's data, the learner's helpers) are the learner's to see.
    assert "File /tmp/work/helpers.py:3, in check(x)" in text
    assert text.endswith("ValueError: cannot reshape array of size 15 into shape (4,4)")


def test_unknown_execution_counts_are_left_as_ipython_wrote_them():
    assert "Cell In[3], line 2" in learner_traceback(FRAMES, {}, "/tmp/work")


def test_a_huge_traceback_keeps_its_end():
    frames = [f"Cell In[1], line {i}\n" + "x" * 500 for i in range(100)] + ["RecursionError: too deep"]
    text = learner_traceback(frames, {1: 0}, "/tmp/work")
    assert len(text) <= TRACEBACK_CHARS + 10
    assert text.startswith("Cell 0, line 0") and "[...]" in text and text.endswith("RecursionError: too deep")


def test_the_graders_import_wrapper_is_neither_shown_nor_counted():
    frames = [
        f"Cell {RED}In[1]{RESET}, line 1\n----> 1 import missing_pkg",
        f"File {RED}/opt/runtime/sandbox_runtime/headless.py:88{RESET}, in _import(name)\n----> 88 return real(name)",
        f"{RED}ModuleNotFoundError{RESET}: No module named 'missing_pkg'",
    ]
    text = learner_traceback(frames, {1: 0}, "/tmp/work")
    assert "headless" not in text and "frame(s) inside libraries" not in text
    assert text == "Cell 0, line 1\n----> 1 import missing_pkg\n\nModuleNotFoundError: No module named 'missing_pkg'"
