"""Checking an uploaded notebook before any container starts, with messages a learner can act on.

``parse_notebook`` takes a notebook exactly as nbformat 4 describes it; ``grader.normalize.prepare``
builds on the same checks to take notebooks as Colab, JupyterLab and VS Code save them.
"""

from __future__ import annotations

import json
from typing import Any

from grader.limits import Limits


def valid_unicode(text: str) -> str:
    """``text`` with lone UTF-16 surrogates replaced by U+FFFD (JSON may spell them; nothing else takes them)."""
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class InvalidNotebook(ValueError):
    """The upload is not a notebook we can grade; the message says why in plain words."""


def parse_notebook(data: bytes, limits: Limits) -> dict[str, Any]:
    """Validate an .ipynb upload and return it with outputs stripped (they are never graded)."""
    check_size(data, limits)
    nb = check_structure(decode_json(data), limits)
    validate_schema(nb)
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def check_size(data: bytes, limits: Limits) -> None:
    if len(data) > limits.max_notebook_kb * 1024:
        raise InvalidNotebook(
            f"the notebook is {len(data) / 1024:.0f} KB, above the limit of {limits.max_notebook_kb} KB; "
            "clear its outputs (Edit > Clear All Outputs) and submit again"
        )


def decode_json(data: bytes) -> Any:
    """The upload's JSON value; refuses what is not UTF-8 or not JSON."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(
            f"the file is not UTF-8 text (byte {exc.start} is invalid); is it really an .ipynb?"
        ) from exc
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidNotebook(f"the file is not valid JSON{where}; an .ipynb file is JSON") from exc
    except ValueError as exc:
        raise InvalidNotebook(f"the file is not valid notebook JSON: {exc}") from exc


def check_structure(nb: Any, limits: Limits) -> dict[str, Any]:
    """``nb`` if it is an nbformat 4 notebook with a list of at most ``limits.max_cells`` cells."""
    if not isinstance(nb, dict):
        raise InvalidNotebook("the file is JSON but not a notebook (expected an object with 'cells')")
    major = nb.get("nbformat")
    if major != 4:
        raise InvalidNotebook(
            f"nbformat {major!r} is not supported: only version 4 notebooks (Jupyter 4 and later) can be graded"
        )
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebook("the notebook has no 'cells' list")
    if len(cells) > limits.max_cells:
        raise InvalidNotebook(f"the notebook has {len(cells)} cells, above the limit of {limits.max_cells}")
    return nb


def validate_schema(nb: dict[str, Any]) -> None:
    import nbformat

    for index, cell in enumerate(nb.get("cells") or []):
        if not isinstance(cell, dict):  # nbformat's own check fails with a TypeError on these
            raise InvalidNotebook(f"the notebook does not follow nbformat 4 at cells/{index}: a cell must be an object")
    try:
        nbformat.validate(nb, version=4)
    except nbformat.ValidationError as exc:
        path = "/".join(str(p) for p in exc.path) or "the top level"
        raise InvalidNotebook(f"the notebook does not follow nbformat 4 at {path}: {exc.message}") from exc


def code_cells(nb: dict[str, Any]) -> list[tuple[int, str]]:
    """(index, source) of every code cell, with the source joined into one string."""
    result = []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            result.append((index, "".join(source) if isinstance(source, list) else source))
    return result
