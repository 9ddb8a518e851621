"""``coursegrade.submit()``: send this notebook to be graded and follow it until the result is in."""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from typing import Any

from coursegrade import notebook, show
from coursegrade.api import current

POLL_S = 1.0
DONE = ("graded", "error")


class SubmissionResult(dict):
    """The submission as the API gives it (``id``, ``status``, ``score``, ``result``...), shown short."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        score = f", {self['score']:g}/{self['max_score']:g} points" if self.get("score") is not None else ""
        printer.text(f"<submission {self.get('id')}: {self.get('stage') or self.get('status')}{score}>")


def submit(
    path: str | os.PathLike[str] | None = None, *, wait: bool = True, timeout: float = 900.0
) -> SubmissionResult:
    """Submit the current notebook (or the file at ``path``) and show its grading as it goes.

    With ``wait=False`` it returns once the submission is stored, as it is then (queued); else it
    follows it for up to ``timeout`` seconds. Every cell is sent as it is, your token left out:
    while grading, ``coursegrade``'s functions do nothing, so cells that use it still run.
    """
    session = current()
    found = notebook.find(path)
    data = json.dumps(notebook.for_grading(found.notebook, session.api.token)).encode()
    slug = session.exercise
    quoted = urllib.parse.quote(slug)
    created = session.api.upload(f"/api/v1/exercises/{quoted}/submissions", "notebook", f"{slug}.ipynb", data)
    note = f"Submitted {found.where}{_saved(found.saved_at)} as submission {created['id']}."
    show.show(show.paragraph(note), note)
    status = show.Display()
    deadline = time.monotonic() + (timeout if wait else 0.0)
    while True:
        submission = SubmissionResult(session.api.json("GET", f"/api/v1/submissions/{created['id']}"))
        line = stage_line(submission)
        status.update(show.paragraph(line), line)
        if submission["status"] in DONE or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    if submission["status"] in DONE:
        _show_result(submission)
    else:
        page = f"{session.api.site}/exercises/{quoted}/?submission={created['id']}"
        show.show(
            show.paragraph(f"Still {submission['stage']}: the result will be on {page}"),
            f"Still {submission['stage']}: the result will be on {page}",
        )
    return submission


def stage_line(submission: dict[str, Any]) -> str:
    stage = submission.get("stage") or submission["status"]
    if stage == "queued":
        ahead = submission.get("queue_position")
        return "Queued" + (f": {ahead} submission(s) ahead of yours" if ahead else ": next in line") + "."
    if stage == "running":
        return "Running: your notebook is being executed."
    if stage == "judging":
        return "Judging: the tests are running on your notebook."
    if stage == "graded":
        return f"Graded: {submission['score']:g}/{submission['max_score']:g} points."
    verdict = submission.get("verdict") or "error"
    return f"Could not be graded ({verdict})."


def _show_result(submission: dict[str, Any]) -> None:
    result = submission.get("result") or {}
    parts_html, parts_text = [], []
    if result.get("output"):
        parts_html.append(show.paragraph(result["output"]))
        parts_text.append(result["output"])
    headers = ["test", "points", "status", "output"]
    rows = [
        [
            t.get("name", ""),
            f"{t.get('score', 0):g}/{t.get('max_score', 0):g}",
            t.get("status", ""),
            t.get("output", ""),
        ]
        for t in result.get("tests") or []
    ]
    caption = f"Score: {submission.get('score') or 0:g}/{submission['max_score']:g}"
    parts_html.append(show.table(headers, rows, caption=caption))
    parts_text.append(show.text_table(headers, rows, caption=caption))
    errors = [c for c in result.get("cells") or [] if c.get("status") not in ("ok", "not_run")]
    for cell in errors:
        line = f"cell {cell.get('index')}: {cell.get('ename', '')}: {cell.get('evalue', '')}"
        detail = f"{line}\n{cell['traceback']}" if cell.get("traceback") else line
        parts_html.append(show.pre(detail))
        parts_text.append(detail)
    for change in result.get("notebook_changes") or []:
        parts_html.append(show.paragraph(f"Adjusted: {change}"))
        parts_text.append(f"adjusted: {change}")
    show.show("".join(parts_html), "\n".join(parts_text))


def _saved(saved_at: float | None) -> str:
    """For a notebook read from its file: when it was saved (unsaved edits are not in it)."""
    if saved_at is None:
        return ""
    ago = max(0, int(time.time() - saved_at))
    when = f"{ago} s" if ago < 120 else f"{ago // 60} min"
    return f" (as saved {when} ago: save it first if you changed it since)"
