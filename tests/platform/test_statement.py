"""Exercise statements: Markdown and maths, with an uploaded README's HTML cut to an allow-list."""

from __future__ import annotations

from course.web.statement import render


def test_scripts_handlers_and_styles_never_survive():
    hostile = (
        "# Title\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> <a href='javascript:alert(3)'>x</a>\n\n"
        "<div style='position:fixed' onclick='alert(4)'>y</div> <iframe src='//evil'></iframe>"
    )
    html = render(hostile)
    for banned in ("<script", "alert(1)", "onerror", "javascript:", "style=", "onclick", "<iframe"):
        assert banned not in html
    assert "<h1>Title</h1>" in html and '<img src="x">' in html


def test_markdown_and_mathml_are_kept():
    html = render("Compute $x^2$ and\n\n$$\\frac{a}{b}$$\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`$not maths$`")
    assert "<math" in html and "<msup>" in html and "<mfrac>" in html and 'display="block"' in html
    assert "<table>" in html and "<code>$not maths$</code>" in html


def test_tex_that_cannot_be_converted_is_shown_escaped():
    html = render("$\\sqrt[<b onclick=alert(1)>$")  # unbalanced: latex2mathml refuses it
    assert "<code>\\sqrt[&lt;b onclick=alert(1)&gt;</code>" in html and "<b " not in html


def test_pages_send_a_content_security_policy_and_the_api_docs_use_local_assets(client, db):
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    policy = docs["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    text = docs.content.decode()
    assert "cdn" not in text.lower() and "drf_spectacular_sidecar" in text
    assert "<script>" not in text  # the init script is a file of its own (split view)
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200 and "SwaggerUIBundle" in init.content.decode()
    assert "Content-Security-Policy" in client.get("/accounts/login/")
