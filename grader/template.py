"""The learner's template, made from the reference notebook by removing the solution regions.

Lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` become ``raise NotImplementedError()``
at the indentation of the marker, so function signatures and docstrings stay and the code still
runs; cells tagged ``solution`` are dropped; outputs and execution counts are cleared.
"""

from __future__ import annotations

import copy
import re
from typing import Any

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
SOLUTION_TAG = "solution"


class TemplateError(ValueError):
    """Unbalanced or nested solution markers; the message names the cell and line."""


def strip_solution(source: str, *, cell: int) -> str:
    """Replace each solution region in one cell's source by a placeholder."""
    out: list[str] = []
    opened_at: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin:
            if opened_at is not None:
                raise TemplateError(
                    f"cell {cell}, line {number}: BEGIN SOLUTION inside the region opened at line {opened_at}"
                )
            opened_at = number
            out.append(f"{begin.group(1)}raise NotImplementedError()")
        elif END.match(line):
            if opened_at is None:
                raise TemplateError(f"cell {cell}, line {number}: END SOLUTION without a BEGIN SOLUTION")
            opened_at = None
        elif opened_at is None:
            out.append(line)
    if opened_at is not None:
        raise TemplateError(f"cell {cell}, line {opened_at}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def make_template(solution: dict[str, Any]) -> dict[str, Any]:
    """The learner's template for a reference notebook (as parsed JSON); the input is not changed."""
    nb = copy.deepcopy(solution)
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            cell["source"] = strip_solution(source, cell=index)
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    nb["cells"] = cells
    return nb
