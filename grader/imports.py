"""Which modules an exercise's own code imports: its reference notebook, its tests and their helpers,
and the Python files it places beside the learner's notebook.

The learner's template is the reference with its solutions stripped, so its import cells are the
reference's: these are the modules a learner's notebook imports. The sandbox imports an
environment's heavy modules before the learner's clock starts only where the exercise uses them
(``preload_for``): a NumPy exercise in an environment that also holds PyTorch does not pay for
torch in every sandbox it is graded in. A module only the learner adds is imported on their clock.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from pathlib import Path

from grader.bundle import Bundle
from grader.normalize import PYTHON_BODY_MAGICS, cell_magic

CACHE_SIZE = 512
_cache: dict[tuple[object, ...], frozenset[str] | None] = {}
_cache_lock = threading.Lock()
# IPython syntax in a cell: a line magic or shell escape (the normaliser leaves most of them to IPython).
_IPYTHON_LINE = re.compile(r"^([ \t]*)([%!].*)$", re.M)
# Line magics that run the rest of their line as Python once their options are taken off, with
# IPython's getopt letters for those options ("n:" takes a value). %%capture is not here: its line
# names a variable, and only its cell's body is Python.
_PYTHON_LINE_MAGICS = {"time": "", "timeit": "n:r:tcp:qov:", "prun": "D:l:rs:T:q"}
# Calls that import the module their first argument names: importlib's, the builtin, pytest's
# skip-if-missing. Matched by name on any object, so an alias of importlib counts too; a wrong
# match only preloads a module the exercise did not need.
_IMPORT_CALLS = {"import_module", "__import__", "importorskip"}


def imported_modules(bundle: Bundle) -> frozenset[str] | None:
    """Top-level names of every module the bundle's code imports; None when some of it cannot be read
    (then every heavy module is preloaded, as if the exercise used them all). Read once per version
    of the files: a grading asks each time."""
    try:
        files = _python_files(bundle) + [bundle.path / "solution.ipynb"]
        key = (str(bundle.path), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    except (OSError, ValueError):
        return None
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    try:
        found = _scan(files[:-1], files[-1])
    except OSError:
        return None  # not cached: the next grading reads the files again
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = found
    return found


def _scan(python_files: list[Path], reference: Path) -> frozenset[str] | None:
    # Bytes, so that a file's coding declaration or BOM is honoured as when pytest imports it; what
    # cannot be decoded is a SyntaxError, like any other code that cannot be read.
    sources: list[str | bytes] = [p.read_bytes() for p in python_files]
    try:
        sources += _code_cells(reference)
    except ValueError:  # not JSON, not UTF-8, or no cells
        return None
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Call) and (called := _called_import(node)):
                names.add(called)
    return frozenset(names)


def preload_for(heavy_modules: tuple[str, ...], imported: frozenset[str] | None) -> tuple[str, ...]:
    """The environment's heavy modules up to the last one the exercise imports (all when that is unknown).

    A prefix rather than a pick: an environment lists its modules from the most used on, so its
    exercises share a few pair shapes and a warm pool keeps each of them ready.
    """
    if imported is None:
        return heavy_modules
    used = [i for i, m in enumerate(heavy_modules) if m.split(".")[0] in imported]
    return heavy_modules[: used[-1] + 1] if used else ()


def _python_files(bundle: Bundle) -> list[Path]:
    files = sorted(bundle.tests_dir.rglob("*.py")) if bundle.tests_dir.is_dir() else []
    return files + [p for p in bundle.data_map().values() if p.suffix == ".py"]


def _code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_bytes()).get("cells")
    if not isinstance(cells, list):
        raise ValueError("the reference notebook has no cells")
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        python = _cell_python("".join(source) if isinstance(source, list) else str(source))
        if python is not None:
            sources.append(python)
    return sources


def _cell_python(source: str) -> str | None:
    """The Python a cell runs, each other line of IPython syntax ``pass``; None for a cell magic whose body
    is not Python (%%bash, %%writefile...). The cell magics are the normaliser's, which grades such a body."""
    lines = source.split("\n")
    if (found := cell_magic(lines)) is not None:
        first, magic = found
        if magic not in PYTHON_BODY_MAGICS:
            return None
        # Read as its line magic: %%timeit's line is a setup statement, the others' options or a name.
        lines[first] = lines[first].strip()[1:]
    return _IPYTHON_LINE.sub(_line_python, "\n".join(lines))


def _line_python(match: re.Match[str]) -> str:
    indent, line = match.groups()
    magic = re.match(r"%(\w+)(.*)", line)
    if magic is None or magic[1] not in _PYTHON_LINE_MAGICS:
        return f"{indent}pass"
    return indent + (_magic_statement(_PYTHON_LINE_MAGICS[magic[1]], magic[2]) or "pass")


def _magic_statement(options: str, args: str) -> str:
    """What a line magic runs: ``args`` less the leading options that the getopt letters ``options`` allow."""
    rest = args.strip()
    while rest.startswith("-"):
        word, rest = _next_word(rest)
        if word.startswith("--"):  # a long flag, like %time --no-raise-error
            continue
        for i, letter in enumerate(word[1:], start=1):
            if letter == ":" or letter not in options:
                return f"{word} {rest}".rstrip()  # not an option: a statement such as `-x`
            if options[options.index(letter) + 1 :].startswith(":"):
                if i == len(word) - 1:  # its value is the next word (`-n 10`), not the rest of this one
                    rest = _next_word(rest)[1]
                break
    return rest


def _next_word(text: str) -> tuple[str, str]:
    parts = text.split(None, 1) + ["", ""]
    return parts[0], parts[1]


def _called_import(node: ast.Call) -> str | None:
    """The top-level module a call such as ``importlib.import_module("x.y")`` imports, when a constant names it."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name not in _IMPORT_CALLS:
        return None
    arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("name", "modname")), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value and arg.value[0] != ".":
        return arg.value.split(".")[0]
    return None  # a computed name, or relative to a package
