"""Server-side SVG charts: the machines have no internet, so no chart library from a CDN."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

STATE_COLOURS = {
    "locked": "#c8c8c8",
    "available": "#8ecae6",
    "in_progress": "#ffb703",
    "tested_out": "#b7e4c7",
    "complete": "#52b788",
}


@dataclass
class Node:
    slug: str
    title: str
    state: str
    requires: list[str]
    label: str


def module_graph(nodes: list[Node]) -> str:
    """The prerequisite DAG, one column per depth, an arrow for each "requires"."""
    depth: dict[str, int] = {}
    for node in nodes:  # curriculum order puts prerequisites first
        depth[node.slug] = 1 + max((depth[r] for r in node.requires if r in depth), default=-1)
    columns: dict[int, list[Node]] = {}
    for node in nodes:
        columns.setdefault(depth[node.slug], []).append(node)
    w, h, gap_x, gap_y = 170, 54, 50, 22
    pos = {
        n.slug: (20 + d * (w + gap_x), 20 + i * (h + gap_y)) for d, col in columns.items() for i, n in enumerate(col)
    }
    width = 40 + len(columns) * (w + gap_x)
    height = 40 + max(len(c) for c in columns.values()) * (h + gap_y)
    parts = [
        f'<svg class="graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        'aria-label="curriculum modules and their prerequisites">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>',
    ]
    for node in nodes:
        x2, y2 = pos[node.slug]
        for req in node.requires:
            x1, y1 = pos[req]
            parts.append(
                f'<line x1="{x1 + w}" y1="{y1 + h / 2}" x2="{x2}" y2="{y2 + h / 2}" stroke="#666" '
                'marker-end="url(#arrow)"/>'
            )
    for node in nodes:
        x, y = pos[node.slug]
        parts.append(
            f'<g class="module" data-module="{escape(node.slug)}" data-state="{node.state}">'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{STATE_COLOURS.get(node.state, "#eee")}" '
            'stroke="#333"/>'
            f'<text x="{x + 10}" y="{y + 22}" font-size="13" font-weight="bold">{escape(node.title[:24])}</text>'
            f'<text x="{x + 10}" y="{y + 42}" font-size="11">{escape(node.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def time_vs_estimate(rows: list[tuple[str, list[float], float, float]]) -> str:
    """Per module (slug, hours, median, estimate): each learner's hours as a dot, the median as a
    bar, the estimate as a red tick."""
    bar_h, gap, left, width = 18, 10, 170, 420
    top = max([e for _, _, _, e in rows] + [max(v, default=0) for _, v, _, _ in rows] + [1.0])
    scale = width / top
    height = 30 + len(rows) * (bar_h + gap)
    parts = [
        f'<svg class="chart" viewBox="0 0 {left + width + 60} {height}" width="{left + width + 60}" '
        f'height="{height}" role="img" aria-label="hours per module against the estimate">'
    ]
    for i, (slug, hours, median, estimate) in enumerate(rows):
        y = 10 + i * (bar_h + gap)
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(slug)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{median * scale:.1f}" height="{bar_h}" fill="#8ecae6">'
            f"<title>median {median:.2f} h</title></rect>"
        )
        for h in hours:
            parts.append(f'<circle cx="{left + h * scale:.1f}" cy="{y + bar_h / 2}" r="3" fill="#023047"/>')
        ex = left + estimate * scale
        parts.append(
            f'<line x1="{ex:.1f}" y1="{y - 3}" x2="{ex:.1f}" y2="{y + bar_h + 3}" stroke="#d62828" '
            f'stroke-width="2"><title>estimate {estimate:g} h</title></line>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else (f"{rest // 60}m" if rest >= 60 else f"{rest}s")


def cohort_matrix(modules: list[dict], matrix: list[dict]) -> str:
    """The learners x modules table, built here rather than in a template: for 1,000 learners the
    template engine would spend most of the page's time on its 10,000 cells."""
    head = "".join(f'<th title="{escape(m["title"])}">{escape(m["slug"])}</th>' for m in modules)
    rows = []
    for row in matrix:
        cells = "".join(
            f'<td class="{c.state}" title="{c.state.replace("_", " ")}">{c.score:g}/{c.max_score:g}'
            f"<br><small>{_duration(c.time_s)}</small></td>"
            for c in row["cells"]
        )
        name = escape(row["learner"])
        rows.append(f'<tr data-learner="{name}"><th>{name}</th>{cells}</tr>')
    return (
        f'<table class="matrix" id="matrix"><thead><tr><th>Learner</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


@dataclass
class RangeBox:
    """One row of ``hours_against_range``: a published range [low, high] and, unless the group was too
    small to show, the first quartile, median and third quartile of learners' hours."""

    slug: str
    title: str
    low: float
    high: float
    quartiles: tuple[float, float, float] | None
    note: str = ""


def _ticks(top: float) -> list[float]:
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if top / s <= 8), 1000)
    return [i * step for i in range(int(top // step) + 1)]


def hours_against_range(rows: list[RangeBox]) -> str:
    """Per row, the published range as a pale band, learners' quartiles as a box within it and the
    median as a dark bar. A withheld group gets its note beside the band: no individual is drawn."""
    bar_h, gap, left, width = 26, 12, 210, 440
    top = max([r.high for r in rows] + [r.quartiles[2] for r in rows if r.quartiles] + [1.0]) * 1.05
    scale = width / top
    axis_y = 6 + len(rows) * (bar_h + gap)
    height = axis_y + 22
    parts = [
        f'<svg class="chart" viewBox="0 0 {left + width + 40} {height}" width="{left + width + 40}" '
        f'height="{height}" role="img" aria-label="learners\' hours per step against the published range">'
    ]
    for tick in _ticks(top):
        x = left + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{axis_y}" stroke="#e0e0e0"/>'
            f'<text x="{x:.1f}" y="{axis_y + 14}" font-size="11" text-anchor="middle">{tick:g} h</text>'
        )
    for i, row in enumerate(rows):
        y = 6 + i * (bar_h + gap)
        parts.append(f'<g class="range-row" data-slug="{escape(row.slug)}">')
        parts.append(f'<text x="0" y="{y + 17}" font-size="12">{escape(row.title[:30])}</text>')
        parts.append(
            f'<rect class="published" x="{left + row.low * scale:.1f}" y="{y}" '
            f'width="{(row.high - row.low) * scale:.1f}" height="{bar_h}" fill="#d8f3dc" stroke="#52b788">'
            f"<title>published {row.low:g}-{row.high:g} h</title></rect>"
        )
        if row.quartiles is None:
            parts.append(
                f'<text class="withheld" x="{left + row.high * scale + 8:.1f}" y="{y + 17}" font-size="11" '
                f'fill="#666">{escape(row.note)}</text>'
            )
        else:
            q1, median, q3 = row.quartiles
            x_median = left + median * scale
            parts.append(
                f'<rect class="quartiles" x="{left + q1 * scale:.1f}" y="{y + 7}" width="{(q3 - q1) * scale:.1f}" '
                f'height="{bar_h - 14}" fill="#8ecae6" fill-opacity="0.85" stroke="#023047">'
                f"<title>middle half of learners: {q1:.1f}-{q3:.1f} h</title></rect>"
                f'<line class="median" x1="{x_median:.1f}" y1="{y + 3}" x2="{x_median:.1f}" y2="{y + bar_h - 3}" '
                f'stroke="#023047" stroke-width="3"><title>median {median:.1f} h</title></line>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
