"""Exercise statements: Markdown with $inline$ and $$display$$ maths rendered as MathML on the server.

MathML needs no script or font from a CDN (the machines have no internet); browsers render it.
"""

from __future__ import annotations

import re

import markdown
from latex2mathml.converter import convert

# Code spans and blocks first, so a "$" inside code is left alone.
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)")


def _math(tex: str, display: bool) -> str:
    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # a typo in the statement's TeX shows as TeX, not as a broken page
        return f"<code>{tex}</code>"


def render(text: str) -> str:
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code
        parts[i] = _DISPLAY.sub(lambda m: _math(m.group(1), True), parts[i])
        parts[i] = _INLINE.sub(lambda m: _math(m.group(1), False), parts[i])
    return markdown.markdown("".join(parts), extensions=["fenced_code", "tables"])
