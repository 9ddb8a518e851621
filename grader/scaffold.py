"""``bundle new``: a small bundle that validates as it is, to copy from."""

from __future__ import annotations

import json
from pathlib import Path

from grader.bundle import SLUG_RE

_SOLUTION_CELLS = [
    ("markdown", "# {title}\n\nImplement `scale(x, factor)`: multiply every element of the array `x` by `factor`."),
    ("code", "import numpy as np"),
    (
        "code",
        'def scale(x: np.ndarray, factor: float) -> np.ndarray:\n    """Return `x * factor`, '
        'leaving `x` unchanged."""\n    # BEGIN SOLUTION\n    return x * factor\n    # END SOLUTION',
    ),
    ("code", "scale(np.arange(3), 2.0)"),
]

_VISIBLE_TESTS = '''"""Visible tests: shipped in the starter pack so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_example(student):
    np.testing.assert_allclose(student.scale(np.array([1.0, 2.0]), 3.0), [3.0, 6.0])
'''

_HIDDEN_TESTS = '''"""Hidden tests: learners see their names and messages, never this code."""

import numpy as np
import pytest


@pytest.mark.points(2)
def test_random_arrays(student):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(student.scale(x, -1.5), x * -1.5)


@pytest.mark.points(1)
def test_input_unchanged(student):
    x = np.ones(3)
    student.scale(x, 2.0)
    # The learner's kernel got a copy of x; check the returned value does not alias a changed input.
    assert np.array_equal(x, np.ones(3)), "scale must not change its input"
'''


def scaffold(root: Path, module: str, slug: str) -> Path:
    """Create ``root/<module>/<slug>/`` with a working example; refuses to overwrite."""
    for name, value in (("module", module), ("slug", slug)):
        if not SLUG_RE.match(value):
            raise ValueError(f"{name} {value!r} must be lowercase words joined by hyphens")
    path = root / module / slug
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    title = slug.replace("-", " ").capitalize()
    (path / "tests").mkdir(parents=True)
    (path / "data").mkdir()
    (path / "exercise.toml").write_text(
        f'slug = "{slug}"\ntitle = "{title}"\npoints = 4\ngpu = "none"\nestimated_minutes = 10\n\n'
        "[limits]\ntimeout_s = 30\n"
    )
    (path / "README.md").write_text(
        f"# {title}\n\nWrite `scale(x, factor)` returning `x * factor` for a NumPy array.\n"
    )
    cells = [
        {"cell_type": kind, "metadata": {}, "source": source.format(title=title), "id": f"cell-{i}"}
        | ({"outputs": [], "execution_count": None} if kind == "code" else {})
        for i, (kind, source) in enumerate(_SOLUTION_CELLS)
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (path / "solution.ipynb").write_text(json.dumps(notebook, indent=1) + "\n")
    (path / "tests" / "test_visible.py").write_text(_VISIBLE_TESTS)
    (path / "tests" / "test_hidden.py").write_text(_HIDDEN_TESTS)
    (path / "data" / ".keep").write_text("")
    return path
