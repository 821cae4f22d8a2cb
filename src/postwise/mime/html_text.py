"""Plain text from mail HTML, for what reads the text of an HTML-only message.

The text feeds the snippet, quote and signature detection, search and the AI, never the reader
(which shows the sanitised HTML). inscriptis lays the HTML out as a text browser would, on an
lxml tree: `<pre>` keeps its lines, table rows stay on their own lines with the cells side by
side, lists get bullets. What it does not know about mail is added here:

- blockquotes become "> " lines, which quote detection and the snippet rely on;
- a link's target follows its text as " <url>", the form Gmail uses in the text/plain copy of
  the HTML it sends, so HTML-only mail reads like the rest. A target that
  says nothing the text does not (text that is the URL or the address) is left out, and so are
  targets of links without text (image links, mostly tracking redirects), `mailto:` is written
  as the bare address ("Alice <alice@example.com>") and other schemes are left out;
- hidden text (`display: none`) is kept: newsletters hide the preview line there that mail
  clients show in the message list;
- alignment is ignored (cells and lines start at the left), so a centred layout cannot push text
  hundreds of columns to the right, and CSS margins and padding are ignored, so a hostile style
  cannot ask for a million blank lines.

Hostile input must never raise nor exhaust memory: documents nested beyond what the parser or
the layout recursion takes, tables whose padding would multiply the text, and anything lxml or
inscriptis trip over fall back to the flat text of `sanitize._flat_text`.
"""

from __future__ import annotations

import re
import threading
from copy import copy
from typing import Any
from urllib.parse import unquote

import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
from inscriptis.css_profiles import CSS_PROFILES  # type: ignore[import-untyped]
from inscriptis.html_engine import Inscriptis  # type: ignore[import-untyped]
from inscriptis.html_properties import (  # type: ignore[import-untyped]
    Display,
    VerticalAlignment,
    WhiteSpace,
)
from inscriptis.model.canvas import block as inscriptis_block  # type: ignore[import-untyped]
from inscriptis.model.config import ParserConfig  # type: ignore[import-untyped]
from inscriptis.model.html_element import HtmlElement  # type: ignore[import-untyped]
from inscriptis.model.tag import CustomHtmlTagHandlerMapping  # type: ignore[import-untyped]
from inscriptis.model.tag.table_tag import table_end_handler  # type: ignore[import-untyped]

from postwise.mime.sanitize import _CLEAN_CONTENT_TAGS, _flat_text, _normalise_url, _too_deep

__all__ = ["html_to_text"]

# inscriptis runs html.unescape over every piece of text it lays out, and again each time a
# table's text is copied into the enclosing one. lxml has already decoded the entities, so this
# decodes them a second (third, ...) time: "&amp;lt;" came out as "<" and a link target
# "?a=1&param=2" as "?a=1¶m=2". Text needs no unescaping after lxml; tests/mime pins this.
inscriptis_block.unescape = lambda text: text

# Output budget for the padded text of a document's tables, in characters: a 100 KB cell above
# 10,000 empty rows would otherwise be padded into a gigabyte. Real mail stays far below.
_MAX_TABLE_TEXT = 4_000_000
# Indentation grows with nesting, on every line: lists deeper than this are laid out flat, and
# quotes deeper than this get no more "> " (900 nested lists or quotes above 100,000 <br>s made
# 180 MB of text from 400 KB of HTML).
_MAX_INDENT_DEPTH = 16
# Blockquote depth markers, on lines of their own. lxml never yields NUL (it turns it into
# U+FFFD), so a message cannot forge them.
_QUOTE_OPEN, _QUOTE_CLOSE = "\x00<", "\x00>"
_TEXT_BLANKS_RE = re.compile(r"\n{3,}")
_MARKER_RE = re.compile("\x00[<>]")
# Control characters other than tab and newline: invisible, and no use to search or the snippet.
_CONTROL_RE = re.compile("[\x01-\x08\x0b-\x1f\x7f]")
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>")
_DEEP_LISTS = (
    "//*[self::ul or self::ol or self::dl]"
    f"[count(ancestor::ul | ancestor::ol | ancestor::dl) >= {_MAX_INDENT_DEPTH}]"
)
# Outermost tables are wrapped in this element so that they stand apart as paragraphs do.
_TABLE_BLOCK = "postwise-table"


def _css() -> dict[str, Any]:
    """The strict (browser default) profile, with the changes the module docstring lists."""
    block = Display.block
    css: dict[str, Any] = dict(CSS_PROFILES["strict"])
    for tag in _CLEAN_CONTENT_TAGS:
        css[tag] = HtmlElement(display=Display.none)
    # No margins on lists: inscriptis hands a block's bottom margin to its first child too, which
    # would put blank lines between the items.
    for tag in ("ul", "ol", "dl"):
        css[tag] = HtmlElement(display=block, padding_inline=2)
    css["pre"] = HtmlElement(
        display=block, margin_before=1, margin_after=1, whitespace=WhiteSpace.pre
    )
    css["hr"] = HtmlElement(display=block, margin_before=1, margin_after=1)
    css[_TABLE_BLOCK] = HtmlElement(display=block, margin_before=1, margin_after=1)
    for tag in ("center", "section", "details", "summary", "dt", "dd", "caption", "fieldset"):
        css[tag] = HtmlElement(display=block)
    # Top, not the browser's middle: a short cell next to a long one starts on the row's first
    # line, so the snippet and quote detection read the cells' first lines together.
    for tag in ("td", "th"):
        css[tag] = HtmlElement(valign=VerticalAlignment.top)
    return css


_CSS = _css()


def _apply_style(style: str, element: Any) -> None:
    """The only CSS honoured: white-space (so styled pre text keeps its lines) and display
    block/inline (buttons and spans styled as blocks). `display: none` stays shown (see the
    module docstring), and nothing undoes a hidden-by-default element such as <script>."""
    for declaration in style.lower().split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name == "white-space":
            if value in ("pre", "pre-wrap", "pre-line", "break-spaces"):
                element.whitespace = WhiteSpace.pre
            elif value in ("normal", "nowrap"):
                element.whitespace = WhiteSpace.normal
        elif name == "display" and element.display != Display.none:
            if value == "block":
                element.display = Display.block
            elif value == "inline":
                element.display = Display.inline


class _TooLarge(Exception):
    """A table would be padded beyond the budget; the document is shown flat instead."""


def _ul_start(state: Any, _attrs: dict[str, str]) -> None:
    # "- " at every level (inscriptis varies the bullet with the depth).
    state.li_counter.append("- ")


def _quote_start(state: Any, _attrs: dict[str, str]) -> None:
    _write_marker(state, _QUOTE_OPEN)


def _quote_end(state: Any) -> None:
    _write_marker(state, _QUOTE_CLOSE)


def _write_marker(state: Any, marker: str) -> None:
    element = state.tags[-1]
    if element.display == Display.none:
        return
    canvas = element.canvas
    canvas.flush_inline()
    canvas.write(element, marker, whitespace=WhiteSpace.pre)
    canvas.flush_inline()


def _trim(cell: Any) -> None:
    """Drop a cell's leading and trailing blank lines: the bottom margin of the paragraph
    Outlook puts in every cell would otherwise make each row two lines high."""
    cell.flush_inline()
    lines = cell.blocks  # the cell's own list until inscriptis lays the table out
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        del lines[0]


def _table_end(state: Any) -> None:
    """inscriptis' own handler, after checking what the padded table would weigh (counted per
    document, on the inscriptis state: nested tables count twice, which errs on the safe side)."""
    if state.current_table:
        table = state.current_table[-1]
        widths: list[int] = []
        height = 0
        for row in table.rows:
            for cell in row.columns:
                _trim(cell)
            if row.columns:
                height += max(cell.normalize_blocks() for cell in row.columns)
            for index, cell in enumerate(row.columns):
                if index == len(widths):
                    widths.append(0)
                widths[index] = max(widths[index], cell.width)
        spent = getattr(state, "postwise_table_text", 0) + height * (sum(widths) + len(widths))
        if spent > _MAX_TABLE_TEXT:
            raise _TooLarge
        state.postwise_table_text = spent
    table_end_handler(state)


_HANDLERS = CustomHtmlTagHandlerMapping(
    start_tag_mapping={"ul": _ul_start, "blockquote": _quote_start},
    end_tag_mapping={"blockquote": _quote_end, "table": _table_end},
)


def _config() -> Any:
    # HtmlDocumentState stores its canvas on the profile's "body" element itself: each call gets
    # its own copy, or two threads converting at once would write into each other's text.
    css = dict(_CSS)
    css["body"] = copy(css["body"])
    config = ParserConfig(
        css=css, table_cell_separator=" ", custom_html_tag_handler_mapping=_HANDLERS
    )
    # No align/valign attributes (see the module docstring), and our own reading of style.
    config.attribute_handler.attribute_mapping = {"style": _apply_style}
    return config


_parsers = threading.local()


def _parser() -> Any:
    # lxml parsers take a lock per parse; one per thread avoids waiting on each other.
    # huge_tree: without it libxml2 stops at depth 256 and silently drops the rest of the
    # document, a depth long Outlook reply chains reach.
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
        _parsers.parser = parser
    return parser


def _link_target(href: str | None, text: str) -> str | None:
    """What to write after a link's text, or None (see the module docstring)."""
    url = _normalise_url(href or "")
    lowered = url.lower()
    if lowered.startswith("mailto:"):
        target = unquote(url[len("mailto:") :].partition("?")[0]).strip()
    elif lowered.startswith(("http://", "https://")):
        target = url
    else:
        return None
    words = " ".join(text.split()).lower()
    # Not printable: lxml refuses control characters in text, and they would be noise anyway.
    if not words or not target or not target.isprintable():
        return None
    bare = target.lower().removeprefix("http://").removeprefix("https://").removeprefix("www.")
    return None if bare.rstrip("/") in words else target


def _prepare(tree: Any) -> None:
    for link in tree.iter("a"):
        target = _link_target(link.get("href"), link.text_content())
        if target is not None:
            link.tail = f" <{target}>{link.tail or ''}"
    for deep in tree.xpath(_DEEP_LISTS):
        deep.tag = "div"
    for table in tree.xpath("//table[not(ancestor::table)]"):
        wrapper = table.makeelement(_TABLE_BLOCK)
        table.addprevious(wrapper)
        wrapper.tail, table.tail = table.tail, None
        wrapper.append(table)


def _lay_out(html: str) -> str:
    html = _XML_DECLARATION_RE.sub("", html, count=1)
    if not html.strip():
        return ""
    try:
        tree = lxml.html.document_fromstring(html, parser=_parser())
    except lxml.etree.ParserError:  # nothing but comments, whitespace or a doctype
        return ""
    _prepare(tree)
    return str(Inscriptis(tree, _config()).get_text())


def _with_quotes(laid_out: str) -> str:
    """Turn the blockquote markers into "> " prefixes and tidy the lines."""
    lines: list[str] = []
    depth = 0
    for raw_line in laid_out.split("\n"):
        line = raw_line.rstrip()
        if "\x00" in line:
            # Alone on its line, unless the blockquote sat in a table cell next to another.
            for marker in _MARKER_RE.findall(line):
                depth = depth + 1 if marker == _QUOTE_OPEN else max(0, depth - 1)
            line = line.replace(_QUOTE_OPEN, "").replace(_QUOTE_CLOSE, "").rstrip()
            if not line.strip():
                continue
        if depth:
            stripped = line.strip()
            shown = min(depth, _MAX_INDENT_DEPTH)
            lines.append("> " * shown + stripped if stripped else ">" * shown)
        else:
            lines.append(line)
    return _TEXT_BLANKS_RE.sub("\n\n", "\n".join(lines)).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text from mail HTML; see the module docstring."""
    if _too_deep(html):
        return _flat(html)
    try:
        laid_out = _lay_out(html)
    except Exception:
        # RecursionError (inscriptis recurses once per nesting level), _TooLarge, or whatever a
        # hostile document makes lxml or inscriptis trip over: the words still matter more than
        # the layout, and parsing a message must not fail on its HTML.
        return _flat(html)
    return _with_quotes(_CONTROL_RE.sub("", laid_out).replace("\xa0", " "))


def _flat(html: str) -> str:
    # No NUL (PostgreSQL text refuses it) nor other control characters, as from lxml's tree.
    return _CONTROL_RE.sub("", _flat_text(html).replace("\x00", ""))
