"""Notebooks as learners save them, made gradable: what Colab, JupyterLab and VS Code write, taken as is.

``prepare`` runs the checks of ``grader.notebook`` (size, UTF-8, JSON, nbformat 4, cell count,
schema; same messages) and in between turns a real notebook into one the sandbox can run:

- a UTF-8 byte-order mark is accepted;
- any kernelspec and language_info: the exercise's Python 3 kernel always runs the code;
- saved outputs, widget state (``metadata.widgets``, which Colab writes without the ``state`` key
  that stricter readers require) and every editor's cell and notebook metadata are dropped;
- lines that install packages or download files (``%pip``, ``!pip``, ``!wget``, ``%%bash`` cells...)
  are skipped: replaced in place, so every other line keeps its number for tracebacks;
- cells tagged ``skip-grading`` (ours) or ``skip-execution`` (Jupyter Book's, also honoured by
  nbclient) are not run.

Every change that matters to the learner is one sentence in ``PreparedNotebook.changes``, shown
with the result. Nothing here runs learner code; the kernel side (Colab stubs, ``input()``,
headless plots and widgets) is ``sandbox/runtime/headless.py``.
"""

from __future__ import annotations

import codecs
import re
import shlex
from dataclasses import dataclass
from typing import Any

from grader.limits import Limits
from grader.notebook import check_size, check_structure, decode_json, valid_unicode, validate_schema

# Cells with one of these tags are not run (the first is ours, the second Jupyter Book's).
SKIP_TAGS = ("skip-grading", "skip-execution")
# At most this many sentences; a notebook with hundreds of magics gets a count for the rest.
MAX_CHANGES = 40
# Characters of a skipped line quoted back to the learner.
QUOTE_CHARS = 80
# What a skipped line becomes: ``pass`` keeps an `if IN_COLAB:` block that held only magics valid.
SKIPPED_MARK = "# [skipped by the grader]"

INSTALL = "the packages of this exercise's environment are installed; nothing is downloaded"
DOWNLOAD = "there is no network while grading; the exercise's data files are already beside your notebook"
UNPACK = (
    "nothing is downloaded while grading, so there is nothing to unpack; "
    "the exercise's data files are beside your notebook"
)
SHELL_CELL = "shell cells do not run while grading; the exercise's environment and data files are already set up"
PLOT_BACKEND = "interactive plot backends need a browser; plots are drawn off-screen while grading"

_PY_KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
# Cell magics whose body is Python (its install lines are skipped one by one, the magic kept).
PYTHON_BODY_MAGICS = {"capture", "time", "timeit", "prun"}
_SHELL_MAGICS = {"bash", "sh", "shell", "system", "script"}
_INSTALLERS = {"conda", "mamba", "micromamba", "apt", "apt-get", "aptitude", "yum", "dnf", "brew", "npm", "yarn"}
_DOWNLOADERS = {"wget", "curl", "gdown", "aria2c", "huggingface-cli", "kaggle", "gsutil", "svn"}
_UNPACKERS = {"unzip", "tar", "gunzip", "7z", "unrar"}
_GIT_NETWORK = {"clone", "pull", "fetch", "lfs", "submodule"}
_INTERACTIVE_BACKENDS = re.compile(r"^(widget|ipympl|notebook|nbagg|qt\w*|tk\w*|gtk\w*|wx\w*|osx|macosx)\b")
# `pip install x` with IPython's automagic (no % needed), which plain Python refuses anyway.
_AUTOMAGIC = re.compile(
    r"^(pip3?|conda|mamba)\s+(install|uninstall|download|list|show|freeze|update|upgrade|create|remove)\b"
)


@dataclass(frozen=True)
class PreparedNotebook:
    """A notebook the sandbox can run, and what was changed to make it so (learner-readable sentences)."""

    notebook: dict[str, Any]
    changes: tuple[str, ...] = ()


def prepare(data: bytes, limits: Limits) -> PreparedNotebook:
    """Check an .ipynb upload as ``parse_notebook`` does and normalise it for grading.

    Raises ``InvalidNotebook`` (with ``parse_notebook``'s messages) for what cannot be graded.
    """
    check_size(data, limits)
    changes = _Changes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        changes.add("The file began with a UTF-8 byte-order mark (BOM); it was ignored.")
    nb, replaced = _valid_unicode(check_structure(decode_json(data), limits))
    if replaced:
        changes.add(
            f"{replaced} piece(s) of text held invalid characters (unpaired UTF-16 surrogates); "
            "each was replaced by U+FFFD."
        )
    nb = _normalize(nb, changes)
    validate_schema(nb)
    return PreparedNotebook(notebook=nb, changes=changes.done())


def _valid_unicode(value: Any) -> tuple[Any, int]:
    """``value`` with every string valid Unicode (JSON may spell lone surrogates, no runtime can use them)."""
    if isinstance(value, str):
        cleaned = valid_unicode(value)
        return cleaned, int(cleaned != value)
    if isinstance(value, list):
        pairs = [_valid_unicode(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        out, total = {}, 0
        for key, item in value.items():
            key, n = _valid_unicode(key)
            out[key], m = _valid_unicode(item)
            total += n + m
        return out, total
    return value, 0


class _Changes:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.skipped = 0

    def add(self, sentence: str) -> None:
        """A change to the whole notebook: always listed."""
        self.items.append(sentence)

    def skip(self, sentence: str) -> None:
        """A skipped line or cell: the first MAX_CHANGES are listed, the rest counted."""
        self.skipped += 1
        if self.skipped <= MAX_CHANGES:
            self.items.append(sentence)

    def done(self) -> tuple[str, ...]:
        more = self.skipped - MAX_CHANGES
        return tuple(self.items + ([f"... and {more} more lines or cells skipped the same way."] if more > 0 else []))


def _normalize(nb: dict[str, Any], changes: _Changes) -> dict[str, Any]:
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    _note_kernel(metadata, changes)
    with_outputs = 0
    cells: list[Any] = []
    ids: set[str] = set()
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            cells.append(cell)  # left for the schema check to refuse, with its usual message
            continue
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in ids:
            cell_id = _new_id(index, ids)
        ids.add(cell_id)
        # Editors always write these keys; one that is missing stays missing, for the schema
        # check to refuse as before (a notebook is not made up where it has nothing).
        clean: dict[str, Any] = {"cell_type": cell["cell_type"], "id": cell_id}
        clean.update({"metadata": {}} if "metadata" in cell else {})
        if "source" in cell:
            clean["source"] = _joined(cell["source"])
        if cell["cell_type"] == "code":
            if cell.get("outputs"):
                with_outputs += 1
            if isinstance(clean.get("source"), str):
                clean["source"] = _code_source(index, clean["source"], _tags(cell), changes)
            clean.update({key: default for key, default in (("outputs", []), ("execution_count", None)) if key in cell})
        cells.append(clean)
    if with_outputs:
        changes.add(f"The saved outputs of {with_outputs} cell(s) were dropped: your code was run afresh.")
    if "widgets" in metadata:
        changes.add("The saved widget state (metadata.widgets) was dropped: widgets are not displayed while grading.")
    # Only what nbformat defines survives: editors' own keys (colab, vscode, accelerator, widgets...)
    # mean nothing here, and some break the schema (a cell's `scrolled` or `tags` of another type).
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": dict(_PY_KERNEL), "language_info": {"name": "python"}},
        "cells": cells,
    }


def _note_kernel(metadata: dict[str, Any], changes: _Changes) -> None:
    spec = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    name, display = spec.get("name"), spec.get("display_name")
    language = spec.get("language") or info.get("name")
    if isinstance(language, str) and language.strip().lower() not in ("python", "python3", ""):
        changes.add(
            f"The notebook was saved for the language {_quote(language)}; "
            "it was run with this exercise's Python 3 kernel."
        )
    elif isinstance(name, str) and not re.fullmatch(r"python[\d.]*", name):
        shown = f" ({_quote(display)})" if isinstance(display, str) and display.strip() else ""
        changes.add(
            f"The notebook was saved for the kernel {_quote(name)}{shown}; "
            "it was run with this exercise's Python 3 kernel and its packages."
        )


def _joined(source: Any) -> Any:
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    return source  # a str already, or malformed: the schema check says so


def _new_id(index: int, taken: set[str]) -> str:
    candidate, n = f"cell-{index}", 0
    while candidate in taken:
        n += 1
        candidate = f"cell-{index}-{n}"
    return candidate


def _tags(cell: dict[str, Any]) -> list[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def cell_magic(lines: list[str]) -> tuple[int, str] | None:
    """The line and the name of the cell magic that heads a cell (its first non-blank line), if one does."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not lines[first].lstrip().startswith("%%"):
        return None
    return first, (lines[first].strip()[2:].split(maxsplit=1) or [""])[0]


def _code_source(index: int, source: str, tags: list[str], changes: _Changes) -> str:
    lines = source.split("\n")
    skip_tag = next((t for t in tags if t in SKIP_TAGS), None)
    if skip_tag is not None:
        if source.strip():
            changes.skip(f"Cell {index} was not run: it is tagged {skip_tag!r}.")
        return _commented(lines)
    if not source.strip():
        return source
    body_start = 0
    if (found := cell_magic(lines)) is not None:
        first, magic = found
        head = lines[first].strip()
        if magic in _SHELL_MAGICS and (magic != "script" or _script_is_shell(head)):
            changes.skip(f"Cell {index} ({_quote(head)}) was not run: {SHELL_CELL}.")
            return _commented(lines)
        if magic not in PYTHON_BODY_MAGICS:
            return source  # %%writefile, %%html...: the body is not Python, nothing to skip in it
        body_start = first + 1
    out = list(lines)
    i = body_start
    while i < len(lines):
        reason = _skip_reason(lines[i].strip())
        if reason is None:
            i += 1
            continue
        changes.skip(f"Cell {index}, line {i + 1}: {_quote(lines[i].strip())} was skipped: {reason}.")
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        out[i] = f"{indent}pass  {SKIPPED_MARK} {_code_safe(lines[i].strip())}"
        # A shell line continued with a backslash goes on in the next lines.
        while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            out[i] = f"{SKIPPED_MARK} {_code_safe(lines[i].strip())}"
        i += 1
    return "\n".join(out)


def _commented(lines: list[str]) -> str:
    return "\n".join(f"# {_code_safe(line)}" if line.strip() else line for line in lines)


def _code_safe(text: str) -> str:
    # A carriage return would end the comment for Python's tokenizer, and a trailing backslash
    # would read as a continued line to anyone who reads the cell back.
    return text.replace("\r", "").rstrip("\\ ")


def _script_is_shell(head: str) -> bool:
    words = head[2:].split()
    return len(words) > 1 and words[1].rsplit("/", 1)[-1] in ("bash", "sh", "zsh", "dash")


def _skip_reason(line: str) -> str | None:
    """Why this (stripped) line is not run, or None when it runs as written."""
    magic = re.match(r"%(\w+)\s*(.*)", line)
    if magic:
        name, rest = magic.groups()
        if name in ("pip", "conda", "mamba", "micromamba", "uv"):
            return INSTALL
        if name in ("sx", "system"):
            return _shell_reason(rest)
        if name == "matplotlib" and _INTERACTIVE_BACKENDS.match(rest.strip()):
            return PLOT_BACKEND
        return None
    if line.startswith("!"):
        return _shell_reason(line.lstrip("!"))
    if _AUTOMAGIC.match(line):
        return INSTALL
    return None


def _shell_reason(command: str) -> str | None:
    """The reason to skip a shell command line if any command in it installs, downloads or unpacks."""
    for part in re.split(r"&&|\|\||[;|&]", command):
        try:
            words = shlex.split(part, comments=True)
        except ValueError:
            words = part.split()
        while words and (words[0] in ("sudo", "env", "time", "nohup") or re.match(r"^\w+=", words[0])):
            words = words[1:]
        if not words:
            continue
        tool, args = words[0].rsplit("/", 1)[-1], words[1:]
        if re.fullmatch(r"pip[\d.]*", tool) or tool in _INSTALLERS:
            return INSTALL
        if tool == "uv" and args[:1] in (["pip"], ["add"], ["sync"]):
            return INSTALL
        python = re.fullmatch(r"python[\d.]*", tool) or (tool.startswith("{") and "executable" in tool)
        if python and len(args) >= 2 and args[0] == "-m" and args[1] in ("pip", "ensurepip", "uv", "conda"):
            return INSTALL
        if tool in _DOWNLOADERS or (tool == "git" and args[:1] and args[0] in _GIT_NETWORK):
            return DOWNLOAD
        if tool in _UNPACKERS:
            return UNPACK
    return None


def _quote(text: str) -> str:
    """``text`` fit to show in a sentence: one line, printable, valid Unicode, short."""
    text = "".join(c if c.isprintable() else " " for c in text.strip())
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON escapes
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 3] + "..."
    return f"`{text}`"
