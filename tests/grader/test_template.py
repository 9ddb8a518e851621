import json

import pytest

from grader.template import TemplateError, make_template, strip_solution
from tests.support import EXERCISES


def test_solution_region_becomes_a_placeholder_at_its_indentation():
    source = 'def f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n'
    assert strip_solution(source, cell=0) == 'def f(x):\n    """Doc."""\n    raise NotImplementedError()'


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("# BEGIN SOLUTION\nx = 1\n", "cell 3, line 1: BEGIN SOLUTION is never closed"),
        ("x = 1\n# END SOLUTION\n", "cell 3, line 2: END SOLUTION without a BEGIN"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "cell 3, line 2: BEGIN SOLUTION inside"),
    ],
)
def test_unbalanced_markers_name_cell_and_line(source, message):
    with pytest.raises(TemplateError, match=message):
        strip_solution(source, cell=3)


def test_template_drops_solution_cells_and_outputs_and_keeps_markdown():
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            {
                "cell_type": "code",
                "metadata": {"tags": ["solution"]},
                "source": "secret = 1",
                "outputs": [],
                "execution_count": 1,
            },
            {
                "cell_type": "code",
                "metadata": {},
                "source": ["x = 1\n", "x"],
                "execution_count": 2,
                "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}}],
            },
        ]
    }
    template = make_template(nb)
    assert [c["cell_type"] for c in template["cells"]] == ["markdown", "code"]
    assert template["cells"][1] == {
        "cell_type": "code",
        "metadata": {},
        "source": "x = 1\nx",
        "execution_count": None,
        "outputs": [],
    }
    assert len(nb["cells"]) == 3  # the reference is untouched


def test_shipped_templates_contain_no_solution_code():
    for path in EXERCISES.glob("*/*/solution.ipynb"):
        solution = json.loads(path.read_text())
        template = json.dumps(make_template(solution))
        assert "BEGIN SOLUTION" not in template and "NotImplementedError" in template
