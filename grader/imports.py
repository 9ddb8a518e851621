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

CACHE_SIZE = 512
_cache: dict[tuple[object, ...], frozenset[str] | None] = {}
_cache_lock = threading.Lock()
# IPython syntax in a cell: a line magic or shell escape (the normaliser skips them when grading).
_IPYTHON_LINE = re.compile(r"^(\s*)[%!].*$", re.M)


def imported_modules(bundle: Bundle) -> frozenset[str] | None:
    """Top-level names of every module the bundle's code imports; None when some of it cannot be read
    (then every heavy module is preloaded, as if the exercise used them all). Read once per version
    of the files: a grading asks each time."""
    files = _python_files(bundle) + [bundle.path / "solution.ipynb"]
    try:
        key = (str(bundle.path), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    except OSError:
        return None
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    found = _scan(bundle)
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = found
    return found


def _scan(bundle: Bundle) -> frozenset[str] | None:
    sources = [p.read_text(encoding="utf-8", errors="replace") for p in _python_files(bundle)]
    try:
        sources += _code_cells(bundle.path / "solution.ipynb")
    except (OSError, ValueError):
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
        source = "".join(source) if isinstance(source, list) else str(source)
        if source.lstrip().startswith("%%"):
            continue  # a cell magic: not Python
        sources.append(_IPYTHON_LINE.sub(r"\1pass", source))
    return sources
