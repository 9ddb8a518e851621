"""Which notebook is this, and what is in it.

The kernel does not know its notebook; each front end says it its own way. ``find`` asks, in this
order, and takes the first answer:

1. ``path=`` given by the learner (always wins);
2. Colab: its notebook API (``google.colab._message``), the notebook as it is in the browser now,
   unsaved edits included;
3. VS Code: ``__vsc_ipynb_file__``, which its Jupyter extension sets in the namespace;
4. Jupyter (Lab, Notebook 7, classic): ``__session__`` in the namespace (ipykernel sets it from
   ``JPY_SESSION_NAME``), else the ``JPY_SESSION_NAME`` variable itself.

VS Code and Jupyter give a file: what was last *saved*, which ``Found.saved_at`` tells.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursegrade.api import CourseError

METADATA_KEY = "coursegrade"  # notebook metadata the platform writes: {"exercise": slug, "site": url}
SKIP_TAG = "skip-grading"  # cells with this tag are not run by the grader
COLAB_TIMEOUT_S = 30


class NotebookNotFound(CourseError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            f"cannot tell which notebook this is ({'; '.join(reasons)}): "
            'pass its file, e.g. coursegrade.submit(path="my-notebook.ipynb")'
        )
        self.reasons = reasons


@dataclass
class Found:
    kind: str  # "path", "colab", "vscode" or "jupyter"
    where: str  # for the learner: "this Colab notebook", a file path
    notebook: dict[str, Any]
    saved_at: float | None = None  # the file's modification time, when it was read from a file


def namespace() -> dict[str, Any]:
    """The notebook's variables: IPython's user namespace, else ``__main__``'s (plain Python)."""
    shell = ipython()
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def ipython() -> Any:
    ip = sys.modules.get("IPython")
    return ip.get_ipython() if ip is not None else None


def find(path: str | os.PathLike[str] | None = None) -> Found:
    """The current notebook (see the module's docstring for the order); CourseError if none answers."""
    if path is not None:
        return read_file("path", Path(path))
    ns = namespace()
    reasons: list[str] = []
    for finder in (_colab, _vscode, _jupyter):
        found = finder(ns, reasons)
        if found is not None:
            return found
    raise NotebookNotFound(reasons)


def read_file(kind: str, path: Path) -> Found:
    try:
        text = path.read_text(encoding="utf-8-sig")
        saved_at = path.stat().st_mtime
    except OSError as exc:
        raise CourseError(f"cannot read the notebook {path}: {exc.strerror or exc} (is it saved?)") from None
    try:
        notebook = json.loads(text)
    except ValueError as exc:
        raise CourseError(f"{path} is not a notebook (.ipynb JSON): {exc}") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise CourseError(f"{path} is not a notebook: it has no list of cells")
    return Found(kind, str(path), notebook, saved_at)


def _colab(ns: dict[str, Any], reasons: list[str]) -> Found | None:
    # Colab's kernel imports google.colab at start; elsewhere the package may be installed but idle.
    if "google.colab" not in sys.modules and "COLAB_RELEASE_TAG" not in os.environ:
        return None
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        reply = _message.blocking_request("get_ipynb", timeout_sec=COLAB_TIMEOUT_S)
    except Exception as exc:  # Colab's private API: any failure is "no answer"
        reasons.append(f"Colab did not give the notebook: {exc}")
        return None
    notebook = reply.get("ipynb") if isinstance(reply, dict) else None
    if not isinstance(notebook, dict):
        reasons.append("Colab did not give the notebook in time")
        return None
    return Found("colab", "this Colab notebook", notebook)


def _vscode(ns: dict[str, Any], reasons: list[str]) -> Found | None:
    path = ns.get("__vsc_ipynb_file__")
    if not path:
        return None
    return read_file("vscode", Path(path))


def _jupyter(ns: dict[str, Any], reasons: list[str]) -> Found | None:
    name = ns.get("__session__") or os.environ.get("JPY_SESSION_NAME")
    if not name:
        reasons.append("no Colab, VS Code or Jupyter notebook told its file")
        return None
    # A path relative to the server's root, or absolute; the kernel runs in the notebook's folder.
    for candidate in (Path(name), Path.cwd() / Path(name).name):
        if candidate.suffix == ".ipynb" and candidate.is_file():
            return read_file("jupyter", candidate)
    reasons.append(f"Jupyter named {name!r}, which is not a notebook file here")
    return None


def course_metadata(notebook: dict[str, Any]) -> dict[str, str]:
    """What the platform wrote into the template: ``{"exercise": slug, "site": url}`` (or less)."""
    meta = notebook.get("metadata")
    meta = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items() if k in ("exercise", "site") and isinstance(v, str) and v}


def for_grading(notebook: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """A copy to upload, with the cells that only use this client tagged ``skip-grading``.

    The grader has no network and no ``coursegrade``: ``import coursegrade`` would fail there and
    ``submit()`` must not run again. Returns the copy and the indices of the tagged cells.
    """
    copied = copy.deepcopy(notebook)
    tagged = []
    for index, cell in enumerate(copied.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if only_client_code(source):
            metadata = cell.setdefault("metadata", {})
            tags = metadata.setdefault("tags", [])
            if SKIP_TAG not in tags:
                tags.append(SKIP_TAG)
            tagged.append(index)
    return copied, tagged


def only_client_code(source: str) -> bool:
    """Whether a cell does nothing but install, import and call coursegrade."""
    # Magics (%pip, !pip) are Python to IPython only; the grader skips install lines anyway.
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    if any(line.lstrip().startswith("%%") for line in source.splitlines()):
        return False
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    names = {"coursegrade"}
    uses = False
    for node in tree.body:
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Import) and all(a.name.split(".")[0] == "coursegrade" for a in node.names):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            uses = True
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "coursegrade":
            names.update(a.asname or a.name for a in node.names)
            uses = True
        elif isinstance(node, (ast.Expr, ast.Assign)) and _calls_client(node.value, names):
            uses = True
        else:
            return False
    return uses


def _calls_client(value: ast.expr, names: set[str]) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id in names
