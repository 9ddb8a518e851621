"""Which notebook is this, and what is in it.

The kernel does not know its notebook; each front end says it its own way. ``find`` asks, in this
order, and takes the first answer:

1. ``path=`` given by the learner (always wins);
2. VS Code: ``__vsc_ipynb_file__``, which its Jupyter extension sets in the namespace;
3. Jupyter (Lab, Notebook 7, classic): ``__session__`` in the namespace (ipykernel sets it from
   ``JPY_SESSION_NAME``), else the ``JPY_SESSION_NAME`` variable itself;
4. Colab: its notebook API (``google.colab._message``), the notebook as it is in the browser now,
   unsaved edits included.

Colab comes last because asking it may wait up to ``COLAB_TIMEOUT_S``, and ``google.colab`` can be
imported where no Colab answers (a local kernel with the package installed); the other two only
read a name. VS Code and Jupyter give a file: what was last *saved*, which ``Found.saved_at`` tells.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursegrade.api import CourseError

METADATA_KEY = "coursegrade"  # notebook metadata the platform writes: {"exercise": slug, "site": url}
TOKEN_MARK = "<your token>"  # what the token becomes in an uploaded notebook
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
    for finder in (_vscode, _jupyter, _colab):
        found = finder(ns, reasons)
        if found is not None:
            return found
    raise NotebookNotFound(reasons or ["no Colab, VS Code or Jupyter notebook told its file"])


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


def for_grading(notebook: dict[str, Any], token: str) -> dict[str, Any]:
    """A copy to upload: every cell as it is, with ``token`` replaced wherever it appears.

    The login cell holds the token: grading does not need it (the grader gives ``import
    coursegrade`` a stand-in that does nothing), and staff can read submissions.
    """

    def blanked(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(token, TOKEN_MARK)
        if isinstance(value, list):
            return [blanked(v) for v in value]
        if isinstance(value, dict):
            return {k: blanked(v) for k, v in value.items()}
        return value

    if not token:
        raise ValueError("no token to leave out")  # "".replace would put the mark between every character
    return blanked(notebook)
