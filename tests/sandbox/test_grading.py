"""End-to-end gradings in real Docker containers: the shipped bundles and the Result format."""

from __future__ import annotations

import json
import time

import pytest

from grader.engine import grade
from grader.result import Verdict
from grader.template import make_template
from tests.support import EXERCISES, notebook

pytestmark = pytest.mark.docker

# The engine's own proof bundles; every shipped bundle is graded by tests/grader/test_validate.py.
SHIPPED = [EXERCISES / "numpy" / "normalize-rows", EXERCISES / "einops-einsum" / "causal-attention-pattern"]


def _template(bundle_dir):
    return json.dumps(make_template(json.loads((bundle_dir / "solution.ipynb").read_text()))).encode()


@pytest.mark.parametrize("bundle_dir", SHIPPED, ids=lambda p: p.name)
def test_reference_gets_full_marks(bundle_dir, sandbox_settings):
    result = grade(bundle_dir, (bundle_dir / "solution.ipynb").read_bytes(), sandbox_settings)
    assert result.verdict == Verdict.GRADED, result.output
    assert result.score == result.max_score > 0
    assert all(t.status == "passed" for t in result.tests)
    assert all(c.status == "ok" for c in result.cells)


@pytest.mark.parametrize("bundle_dir", SHIPPED, ids=lambda p: p.name)
def test_unsolved_template_gets_nothing(bundle_dir, sandbox_settings):
    result = grade(bundle_dir, _template(bundle_dir), sandbox_settings)
    assert result.verdict == Verdict.GRADED
    assert result.score == 0
    assert all(t.status == "failed" for t in result.tests)
    assert any("NotImplementedError" in t.output for t in result.tests)


def test_partial_marks_and_result_format(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.visible
        @pytest.mark.points(2)
        def test_add(student):
            assert student.add(2, 3) == 5

        @pytest.mark.points(3)
        def test_mul(student):
            assert student.mul(2, 3) == 6, "mul(2, 3) should be 6"
        """
    )
    nb = notebook("def add(a, b):\n    return a + b", "def mul(a, b):\n    return a + b", "1/0")
    result = grade(bundle, nb, sandbox_settings)
    data = json.loads(result.to_json())
    assert set(data) >= {"score", "max_score", "verdict", "execution_time", "tests", "cells"}
    assert (data["score"], data["max_score"], data["verdict"]) == (2.0, 5.0, "graded")
    by_name = {t["name"]: t for t in data["tests"]}
    add = dict(by_name["test_add"])
    assert add.pop("duration") >= 0
    assert add == {
        "name": "test_add",
        "score": 2.0,
        "max_score": 2.0,
        "status": "passed",
        "visibility": "visible",
        "output": "",
    }
    assert by_name["test_mul"]["status"] == "failed"
    assert by_name["test_mul"]["visibility"] == "hidden"
    assert by_name["test_mul"]["output"] == "mul(2, 3) should be 6"
    cell = dict(data["cells"][2])
    assert "1/0" in cell.pop("traceback")
    assert cell == {"index": 2, "status": "error", "ename": "ZeroDivisionError", "evalue": "division by zero"}
    assert "ZeroDivisionError" in data["output"]


def test_cell_errors_carry_the_traceback_of_the_learners_own_code(make_bundle, sandbox_settings):
    bundle = make_bundle("def test_x(student):\n    assert student.ok == 1\n")
    nb = notebook(
        "import numpy as np\nok = 1",
        "def reshape_all(xs):\n    return [np.reshape(x, (4, 4)) for x in xs]",
        "# the learner's mistake\nreshape_all([np.arange(15)])",
    )
    result = grade(bundle, nb, sandbox_settings)
    assert result.score == result.max_score  # a failing cell does not stop the tests
    (cell,) = [c for c in result.cells if c.status == "error"]
    assert (cell.index, cell.ename) == (2, "ValueError")
    tb = cell.traceback
    assert "\x1b" not in tb  # plain text, no terminal colours
    # Both of the learner's cells, named by their index as in the rest of the report, in order.
    assert tb.index("Cell 2, line 2") < tb.index("Cell 1, line 2") < tb.index("np.reshape(x, (4, 4))")
    assert "reshape_all([np.arange(15)])" in tb
    # NumPy's own frames are counted, not shown.
    assert "inside libraries not shown" in tb and "numpy/core" not in tb and "fromnumeric.py" not in tb
    assert tb.rstrip().endswith("ValueError: cannot reshape array of size 15 into shape (4,4)")


def test_the_judging_stage_is_announced_while_the_tests_run(make_bundle, sandbox_settings):
    bundle = make_bundle("import time\n\ndef test_slow(student):\n    time.sleep(1.5)\n    assert student.x == 1\n")
    stages: list[tuple[str, float]] = []
    result = grade(
        bundle,
        notebook("import time\ntime.sleep(1)\nx = 1"),
        sandbox_settings,
        on_stage=lambda stage: stages.append((stage, time.monotonic())),
    )
    done = time.monotonic()
    assert result.score == result.max_score
    assert [s for s, _ in stages] == ["judging"]
    # Announced once the notebook had run, while the slow test still had over a second to go.
    assert done - stages[0][1] > 1.2


def test_objects_by_reference_and_data_files(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import numpy as np
        import torch

        def test_module_by_reference(student, device):
            model = student.Affine(3)
            assert model.remote_type == "Affine"
            out = model(torch.ones(2, 3))
            assert isinstance(out, torch.Tensor) and out.shape == (2, 3)
            torch.testing.assert_close(out, torch.full((2, 3), 2.0))
            assert model.scale == 2.0
            weights = model.state_dict()
            assert set(weights) == {"bias"}
            assert len(student.items) == 3 and list(student.items) == [1, (2, "x"), {"k": None}]
            assert device == "cpu"

        def test_data_file_beside_notebook(student):
            np.testing.assert_array_equal(student.loaded, np.arange(4))
        """,
        data={"numbers.npy": _npy(list(range(4)))},
    )
    nb = notebook(
        """
        import numpy as np, torch
        class Affine(torch.nn.Module):
            def __init__(self, n):
                super().__init__()
                self.scale = 2.0
                self.bias = torch.nn.Parameter(torch.zeros(n))
            def forward(self, x):
                return x * self.scale + self.bias
        items = [1, (2, "x"), {"k": None}]
        loaded = np.load("numbers.npy")
        """
    )
    result = grade(bundle, nb, sandbox_settings)
    assert [t.status for t in result.tests] == ["passed", "passed"], result.tests


def _npy(values):
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.array(values))
    return buf.getvalue()


def test_learner_exception_is_reported_with_its_traceback(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        def test_call(student):
            student.explode([1, 2])
        """
    )
    nb = notebook("def explode(xs):\n    return xs[5]")
    result = grade(bundle, nb, sandbox_settings)
    (test,) = result.tests
    assert test.status == "failed"
    # A hidden test names the exception and the learner's own line (checked against their
    # notebook), not the message: it was computed from the test's hidden input.
    assert "your code raised IndexError in explode(...)" in test.output
    assert "line 2, in explode: return xs[5]" in test.output
    assert "list index out of range" not in test.output


def test_gpu_required_without_gpu_is_refused_clearly(make_bundle, sandbox_settings):
    bundle = make_bundle("def test_x(student):\n    pass\n", gpu="required")
    result = grade(bundle, notebook("x = 1"), sandbox_settings)
    assert result.verdict == Verdict.INTERNAL_ERROR
    assert "needs a GPU" in result.output
    assert result.tests == []
