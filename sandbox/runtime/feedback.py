"""What a learner sees of a hidden test that did not pass: a rule, not a filter.

Shown: the author's own hint text, read from the test's source (never from the exception), with
every value the message formats replaced by "…"; when the learner's code raised, the exception's
type and where in their notebook it was raised, each line checked against the notebook they
submitted. Never shown: anything computed in the judge (reference values, comparison diffs,
parametrize values) or in the kernel while it ran on hidden inputs (the learner's exception
message could echo them, encoded however the learner likes).

Judge-side only (trusted). Visible tests keep their full output; that is decided in judge.py.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HIDDEN_CHECK = "a hidden check failed"
ELIDED = "…"
_FRAME = re.compile(r'^\s*File "(?P<file>[^"\n]*)", line (?P<line>\d+), in (?P<func>\S+)\n(?P<code>[^\n]*)$', re.M)
_SPECIAL_FUNCS = {"<module>", "<lambda>", "<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>"}
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
_PERCENT_FIELD = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[a-zA-Z%]")
MAX_FRAMES = 8


@dataclass
class HintSource:
    """The bundle's test files, parsed once: where a failing statement's hint text is read from."""

    trees: dict[str, ast.Module] = field(default_factory=dict)

    @classmethod
    def read(cls, paths: list[Path]) -> HintSource:
        trees = {}
        for path in paths:
            try:
                trees[str(path)] = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
            except (OSError, SyntaxError, ValueError):
                continue
        return cls(trees)

    def hint(self, exc: BaseException) -> str | None:
        """The author's message for the statement of a test file where ``exc`` surfaced, as source text."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            tree = self.trees.get(frame.filename)
            if tree is None or frame.lineno is None:
                continue
            statement = _statement_at(tree, frame.lineno)
            if statement is None:
                return None
            for node in ast.walk(statement):
                for message in _message_nodes(node):
                    text = _render(message)
                    if text and text.strip(ELIDED + " "):
                        return text
            return None
        return None


@dataclass
class NotebookSource:
    """The notebook the learner submitted, as the host gave it to the judge: what their frames must match."""

    lines: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path | None) -> NotebookSource:
        if path is None:
            return cls()
        try:
            nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            cells = nb.get("cells", []) if isinstance(nb, dict) else []
        except (OSError, ValueError, RecursionError):
            return cls()
        code = []
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                code.append("".join(source) if isinstance(source, list) else str(source))
        text = "\n".join(code)
        return cls(
            lines={line.strip() for line in text.splitlines() if line.strip()},
            names=set(re.findall(r"[A-Za-z_]\w*", text)),
            classes=set(re.findall(r"^\s*class\s+([A-Za-z_]\w*)", text, re.M)),
        )

    def exception_name(self, claimed: str) -> str:
        """The learner's exception type if it is a builtin one or a class their notebook defines."""
        if claimed in self.classes:
            return claimed
        builtin = getattr(builtins, claimed, None)
        if isinstance(builtin, type) and issubclass(builtin, BaseException):
            return claimed
        return "an exception"

    def frames(self, traceback_text: str) -> list[str]:
        """The learner's frames that are lines of their own notebook; anything else is dropped."""
        shown = []
        for match in _FRAME.finditer(traceback_text):
            code, func = match["code"].strip(), match["func"]
            if code not in self.lines or not (func in _SPECIAL_FUNCS or func in self.names):
                continue
            shown.append(f"  line {int(match['line'])}, in {func}: {code}")
        return shown[-MAX_FRAMES:]


def learner_error(what: str, etype: str, traceback_text: str, notebook: NotebookSource) -> str:
    """A hidden test's report of the learner's own exception: its type and where, never its message."""
    name = notebook.exception_name(etype)
    frames = notebook.frames(traceback_text)
    lines = [f"your code raised {name} in {what}" + (":" if frames else ".")]
    lines += frames
    lines.append("(the messages of your exceptions are shown for visible tests and your own runs only)")
    return "\n".join(lines)


def judge_error(exc: BaseException, sources: HintSource) -> str:
    """A hidden test's report when the test's own check failed: the author's hint, or a plain line."""
    if isinstance(exc, pytest.fail.Exception) and str(exc).startswith("DID NOT RAISE"):
        return "your code did not raise the exception this check expects"
    hint = sources.hint(exc)
    if hint:
        return hint
    if isinstance(exc, AssertionError):
        return HIDDEN_CHECK
    kind = type(exc).__name__
    shown = kind if isinstance(getattr(builtins, kind, None), type) else "an error"
    return f"{HIDDEN_CHECK} ({shown} in the check)"


def _statement_at(tree: ast.Module, lineno: int) -> ast.stmt | None:
    """The innermost statement spanning ``lineno``."""
    best: ast.stmt | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= lineno <= (node.end_lineno or node.lineno):
            if best is None or (node.end_lineno or node.lineno) - node.lineno <= (
                (best.end_lineno or best.lineno) - best.lineno
            ):
                best = node
    return best


def _message_nodes(node: ast.AST) -> list[ast.expr]:
    """Where authors put text for the learner: an assert's message, a raised error's first argument,
    ``pytest.fail(...)``'s, and the ``msg=``/``err_msg=`` of testing helpers."""
    if isinstance(node, ast.Assert) and node.msg is not None:
        return [node.msg]
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
        return [node.exc.args[0]]
    if isinstance(node, ast.Call):
        found = [k.value for k in node.keywords if k.arg in ("msg", "err_msg", "reason")]
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "fail" and node.args:
            found.append(node.args[0])
        return found
    return []


def _render(node: ast.expr) -> str | None:
    """The literal text of a message expression, with what it formats at run time shown as "…"."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append(ELIDED)
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _render(node.left), _render(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else ELIDED) + (right if right is not None else ELIDED)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
        template = node.left.value
        return _PERCENT_FIELD.sub(ELIDED, template) if isinstance(template, str) else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return _FORMAT_FIELD.sub(ELIDED, node.func.value.value)
    return None
