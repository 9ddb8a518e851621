"""Notebooks as Colab and JupyterLab save them, graded end to end in the real sandbox.

The Colab and JupyterLab notebooks (tests/notebooks.py) need the ``mi`` environment (plotly,
ipywidgets, tqdm, circuitsvis); the input() case runs in base.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from grader.engine import EngineSettings, grade
from grader.result import Verdict
from tests.notebooks import colab_notebook, jupyterlab_notebook, write_real_notebooks_bundle
from tests.support import notebook

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def mi_settings(sandbox_settings: EngineSettings) -> EngineSettings:
    """The session's settings, with the ``mi`` image built from this checkout if they lack it."""
    if "mi" in sandbox_settings.environments:
        return sandbox_settings
    from sandbox import image

    return dataclasses.replace(
        sandbox_settings, environments={**sandbox_settings.environments, "mi": image.build("mi", log=lambda _: None)}
    )


def _assert_full_marks(result) -> None:
    failed = [(t.name, t.output) for t in result.tests if t.status != "passed"]
    errors = [(c.index, c.ename, c.evalue, c.traceback) for c in result.cells if c.status != "ok"]
    assert result.verdict == Verdict.GRADED, (result.output, errors)
    assert result.score == result.max_score == 4, (failed, errors)
    assert errors == []


def test_a_colab_notebook_gets_full_marks_and_is_told_what_changed(tmp_path, mi_settings):
    bundle = write_real_notebooks_bundle(tmp_path)
    result = grade(bundle, colab_notebook(), mi_settings)
    _assert_full_marks(result)
    changes = result.notebook_changes
    assert any(c.startswith("Cell 1, line 2: `%pip install transformer_lens circuitsvis` was skipped") for c in changes)
    assert any(c.startswith("Cell 1, line 3: `!wget -q https://") for c in changes)
    assert any("saved outputs of 3 cell(s)" in c for c in changes)
    assert any("widget state" in c for c in changes)
    assert result.to_dict()["notebook_changes"] == changes


def test_a_jupyterlab_notebook_with_a_conda_kernel_gets_full_marks(tmp_path, mi_settings):
    bundle = write_real_notebooks_bundle(tmp_path)
    result = grade(bundle, b"\xef\xbb\xbf" + jupyterlab_notebook(), mi_settings)
    _assert_full_marks(result)
    text = "\n".join(result.notebook_changes)
    assert "byte-order mark" in text
    assert "saved for the kernel `conda-env-mi-py`" in text
    assert "Cell 1, line 1: `!pip install -r requirements.txt` was skipped" in text
    assert "Cell 1, line 2: `%pip install transformer_lens` was skipped" in text
    assert "Cell 6 was not run: it is tagged 'skip-execution'." in text
    # The tagged cell asked for input(); it never ran, so it is not an error.
    assert [c.index for c in result.cells if c.status != "ok"] == []


def test_input_gets_a_clear_error_instead_of_hanging(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.visible
        @pytest.mark.points(1)
        def test_square(student):
            assert student.square(3) == 9
            assert student.after_input == 1
            assert student.IN_COLAB is False
        """
    )
    nb = notebook(
        # Colab's helpers work in base too, where there is no `google` package at all.
        """
        try:
            import google.colab
            IN_COLAB = True
        except ImportError:
            IN_COLAB = False
        from google.colab import drive, userdata
        drive.mount("/content/drive")
        """,
        # The course's notebook client, as a learner's Colab notebook carries it, mixed with their code.
        "import coursegrade\ncoursegrade.login('token')\ndef square(x):\n    return x * x\ncoursegrade.submit()",
        "name = input('Your name: ')\nprint('hello', name)",
        "after_input = 1",
    )
    started = time.monotonic()
    result = grade(bundle, nb, sandbox_settings)
    assert time.monotonic() - started < 60  # the cell limit is 30 s: nothing waited for it
    assert result.verdict == Verdict.GRADED, result.output
    assert result.score == result.max_score == 1
    (cell,) = [c for c in result.cells if c.status != "ok"]
    assert (cell.index, cell.status, cell.ename) == (2, "error", "NoInputError")
    assert cell.evalue.startswith("input() cannot be answered while grading")
    assert "Cell 2, line 1" in cell.traceback and "input('Your name: ')" in cell.traceback
    assert result.notebook_changes == []


def test_the_client_in_its_own_cell_and_in_later_cells_with_the_learners_code(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.visible
        @pytest.mark.points(1)
        def test_square(student):
            assert student.square(3) == 9
            assert student.caught == "learner"
        """
    )
    nb = notebook(
        # As the exercise page gives it: install and log in, alone in the first cell.
        "%pip install https://course.example.org/client/coursegrade_client-0.1.1-py3-none-any.whl\n"
        "import coursegrade\ncoursegrade.login('token')",
        # `coursegrade` must still be defined here, with the code the tests need.
        "def square(x):\n    return x * x\n\nsummary = coursegrade.check()",
        # The client's submodules and exception classes, in a handler the learner's error goes through.
        "import coursegrade.api\nfrom coursegrade.api import CourseError\n"
        "try:\n    coursegrade.api.current()\n    int('not a number')\n"
        "except CourseError:\n    caught = 'client'\nexcept ValueError:\n    caught = 'learner'",
        "coursegrade.submit()",
    )
    result = grade(bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.GRADED, result.output
    assert result.score == result.max_score == 1, [(t.name, t.output) for t in result.tests]
    assert [(c.index, c.ename, c.evalue) for c in result.cells if c.status != "ok"] == []
    (change,) = result.notebook_changes
    assert change.startswith("Cell 0, line 1: `%pip install https://course.example.org/client/")
