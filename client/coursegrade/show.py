"""What the learner sees: small HTML tables in a notebook, plain text elsewhere."""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from typing import Any

MAX_OUTPUT_CHARS = 2000  # of one test's message in the table (the summary object keeps it all)
_CELL = "text-align:left;vertical-align:top;padding:2px 8px"


def in_notebook() -> bool:
    ip = sys.modules.get("IPython")
    return ip is not None and ip.get_ipython() is not None


class Display:
    """One output area that is replaced as things change (the submission's stage)."""

    def __init__(self) -> None:
        self._handle: Any = None

    def update(self, html_text: str, text: str) -> None:
        if not in_notebook():
            print(text)
            return
        from IPython.display import display

        # Both forms: a notebook shows the HTML, a terminal IPython the text.
        bundle = {"text/html": html_text, "text/plain": text}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


def show(html_text: str, text: str) -> None:
    Display().update(html_text, text)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    caption: str = "",
    details: Sequence[str] = (),
) -> str:
    """An HTML table of text cells (escaped; a cell with a newline becomes preformatted).

    ``details[i]``, when not empty, is folded away under row i's last cell (a traceback, say).
    """
    head = "".join(f'<th style="{_CELL}">{html.escape(h)}</th>' for h in headers)
    body = ""
    for i, row in enumerate(rows):
        cells = [_cell(c) for c in row]
        more = details[i] if i < len(details) else ""
        if more and cells:
            cells[-1] += f"<details><summary>details</summary>{pre(more)}</details>"
        body += "<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in cells) + "</tr>"
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="coursegrade">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str = "") -> str:
    """One line per row: its first cell, then the others that are not empty (a cell's own lines indented)."""
    lines = [caption] if caption else []
    if headers:
        lines.append("  ".join(headers))
    for row in rows:
        first, *rest = (str(c) for c in row)
        detail = "  ".join(r.replace("\n", "\n    ") for r in rest if r)
        lines.append(f"{first}  {detail}".rstrip())
    return "\n".join(lines)


def clip(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters]"


def _cell(value: str) -> str:
    value = str(value)
    return pre(value) if "\n" in value else html.escape(clip(value))


def pre(text: str) -> str:
    return f'<pre style="margin:0;white-space:pre-wrap">{html.escape(clip(text))}</pre>'


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"
