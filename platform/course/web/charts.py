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
