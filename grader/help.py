"""An exercise's help for learners who are stuck: progressive hints and the solution.

Bundle files beyond the contract, both optional, never in the template or the starter pack:

    hints/*.md         one hint per file, revealed one at a time in file-name order (01.md, 02.md...)
    walkthrough.md     the solution explained; without it the solution shown is the reference's code

What may be revealed, and when, is the platform's decision (a cohort's policy); this module only
reads what the bundle has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HINTS_DIR = "hints"
WALKTHROUGH = "walkthrough.md"
MAX_HELP_CHARS = 20_000  # per hint or walkthrough: help is prose, not a data file


@dataclass(frozen=True)
class BundleHelp:
    hints: tuple[str, ...]
    solution: str  # Markdown: the walkthrough, or the reference's code cells


def bundle_help(folder: Path) -> BundleHelp:
    """The hints and solution of the bundle in ``folder``; a missing or unreadable file gives none."""
    hints_dir = folder / HINTS_DIR
    files = sorted(p for p in hints_dir.glob("*.md") if p.is_file()) if hints_dir.is_dir() else []
    hints = tuple(text for text in map(_read, files) if text.strip())
    walkthrough = folder / WALKTHROUGH
    solution = _read(walkthrough) if walkthrough.is_file() else _reference_code(folder / "solution.ipynb")
    return BundleHelp(hints, solution)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:MAX_HELP_CHARS]
    except OSError:
        return ""


def _reference_code(notebook: Path) -> str:
    """The reference notebook's code cells as one Markdown code block ("" when there is none)."""
    try:
        cells = json.loads(notebook.read_bytes()).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return ""
    code = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            code.append(("".join(source) if isinstance(source, list) else str(source)).strip())
    text = "\n\n".join(c for c in code if c)
    return f"The reference solution:\n\n```python\n{text[:MAX_HELP_CHARS]}\n```\n" if text else ""
