"""Exercise statements: Markdown with $inline$ and $$display$$ maths rendered as MathML on the server.

MathML needs no script or font from a CDN (the machines have no internet); browsers render it.
A statement is an uploaded bundle's README, so the HTML is cut down to an allow-list of
Markdown's and MathML's own tags and attributes (nh3): no script, no event handler, no style.
"""

from __future__ import annotations

import html
import re

import markdown
import nh3
from latex2mathml.converter import convert

# Code spans and blocks first, so a "$" inside code is left alone.
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)")


def _math(tex: str, display: bool) -> str:
    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # a typo in the statement's TeX shows as TeX, not as a broken page
        return f"<code>{html.escape(tex)}</code>"


def render(text: str) -> str:
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code
        parts[i] = _DISPLAY.sub(lambda m: _math(m.group(1), True), parts[i])
        parts[i] = _INLINE.sub(lambda m: _math(m.group(1), False), parts[i])
    return sanitize(markdown.markdown("".join(parts), extensions=["fenced_code", "tables"]))


_MARKDOWN_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub", "span", "div",
}  # fmt: skip
_MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
    "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle",
    "mpadded", "mphantom", "menclose", "mfenced", "merror",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "display", "xmlns", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
    "accentunder", "columnalign", "rowalign", "columnspacing", "rowspacing", "displaystyle", "scriptlevel",
    "linethickness", "width", "height", "depth", "notation", "open", "close", "separators", "encoding",
    "movablelimits", "largeop", "symmetric", "minsize", "maxsize", "form",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    **{tag: _MATHML_ATTRIBUTES for tag in _MATHML_TAGS},
}


def sanitize(fragment: str) -> str:
    """Only the allow-listed tags and attributes survive; links may only be http(s), mailto or relative."""
    return nh3.clean(
        fragment,
        tags=_MARKDOWN_TAGS | _MATHML_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
