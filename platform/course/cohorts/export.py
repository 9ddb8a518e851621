"""The cohort dashboard as tables: one per section of the page, for CSV and a zip of all of them."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from course.cohorts.selectors import FUNNEL_STATES, progress_rows


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]

    def csv(self) -> str:
        """With its header even when empty: an empty section is still a section."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


def matrix_table(rows: list[dict[str, Any]]) -> Table:
    """The learners x modules rows (``progress_rows``): the progress API's CSV and the page's."""
    return Table(("learner", "module", "status", "score", "max_score", "time_s", "estimated_hours"), rows)


def dashboard_tables(data: dict[str, Any]) -> dict[str, Table]:
    """Everything the cohort page shows (``cohort_dashboard``), section by section."""
    return {
        "matrix": matrix_table(progress_rows(data["matrix"])),
        "funnel": Table(
            ("module", "title", "learners", *FUNNEL_STATES),
            [
                {"module": m["slug"], "title": m["title"], "learners": data["learners"], **m["funnel"]}
                for m in data["modules"]
            ],
        ),
        "hours": Table(
            (
                "module",
                "estimated_hours",
                "learners_with_time",
                "median_hours",
                "min_hours",
                "max_hours",
                "over_estimate",
            ),
            [
                {
                    "module": m["slug"],
                    "estimated_hours": m["estimated_hours"],
                    "learners_with_time": len(m["hours"]),
                    "median_hours": round(m["median_hours"], 3),
                    "min_hours": round(min(m["hours"], default=0.0), 3),
                    "max_hours": round(max(m["hours"], default=0.0), 3),
                    "over_estimate": m["over_estimate"],
                }
                for m in data["modules"]
            ],
        ),
        "stuck": Table(("learner", "reason"), [{"learner": s["learner"], "reason": s["why"]} for s in data["stuck"]]),
        "reveals": Table(
            ("learner", "exercise", "hints", "solution_at", "passed_at", "passed_after_solution"),
            [r | {"solution_at": _iso(r["solution_at"]), "passed_at": _iso(r["passed_at"])} for r in data["reveals"]],
        ),
    }


def _iso(at: Any) -> str:
    return at.isoformat(timespec="seconds") if at is not None else ""


SECTIONS = ("matrix", "funnel", "hours", "stuck", "reveals")


def dashboard_zip(tables: dict[str, Table], prefix: str) -> bytes:
    """One CSV per section, named ``<prefix>-<section>.csv``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SECTIONS:
            archive.writestr(f"{prefix}-{name}.csv", tables[name].csv())
    return out.getvalue()
