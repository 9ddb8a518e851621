import json

import pytest

from grader.limits import DEFAULT_LIMITS
from grader.notebook import InvalidNotebook, code_cells, parse_notebook
from tests.notebooks import MALFORMED
from tests.support import notebook


def test_outputs_are_stripped():
    nb = json.loads(notebook("print(1)", "x = 2"))
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    nb["cells"][0]["execution_count"] = 3
    parsed = parse_notebook(json.dumps(nb).encode(), DEFAULT_LIMITS)
    assert parsed["cells"][0]["outputs"] == [] and parsed["cells"][0]["execution_count"] is None
    assert code_cells(parsed) == [(0, "print(1)"), (1, "x = 2")]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed(data, message):
    with pytest.raises(InvalidNotebook, match=message):
        parse_notebook(data, DEFAULT_LIMITS)


def test_limits_are_the_bundles():
    small = DEFAULT_LIMITS.override({"max_cells": 2, "max_notebook_kb": 1})
    with pytest.raises(InvalidNotebook, match="3 cells, above the limit of 2"):
        parse_notebook(notebook("a = 1", "b = 2", "c = 3"), small)
    with pytest.raises(InvalidNotebook, match="above the limit of 1 KB"):
        parse_notebook(notebook("a = '" + "x" * 2000 + "'"), small)
