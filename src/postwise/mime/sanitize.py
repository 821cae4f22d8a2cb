"""HTML sanitising for display, and HTML to plain text.

Mail HTML is hostile: it may carry script, phishing forms, and remote images that tell the sender
when (and from where) the message was read. `sanitize_html` keeps what a reader needs (text,
links, tables, inline styling, `cid:` and `data:image/*` images) and nothing that runs or phones
home.

Remote images are blocked by moving the URL into a `data-postwise-*` attribute:

- `<img src>` and `<img srcset>` become `data-postwise-src` / `data-postwise-srcset`;
- the `background` attribute of table cells becomes `data-postwise-background`;
- CSS `url()` declarations that fetch remotely are dropped (a browser cannot be told to load them
  later, and they are rare outside newsletters); re-run `sanitize_html(...,
  allow_remote_images=True)` on the original HTML to get them back.

A "show images" switch restores the first three by renaming the attributes back. Tracking pixels
are removed outright, whatever `allow_remote_images` says, because showing images should never
mean reporting the read to a tracker.

How it works: nh3 (ammonia) parses and re-serialises the HTML, so its output is canonical: tag and
attribute names lower-case, every attribute written as `name="value"` with `"` escaped, and `<`,
`>` escaped in text and (nh3 >= 0.3.8) in attribute values; the attribute filter also removes
them from values, so this holds whatever the serialiser does. In the output `<` and `>` therefore
only ever delimit tags, which makes the few regexes below, run on `<img>` tags, `background`
attributes and `style` attributes of the *output*, exact.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

import nh3

__all__ = ["SanitizedHtml", "restore_remote_images", "sanitize_html"]


@dataclass(frozen=True, slots=True)
class SanitizedHtml:
    html: str
    has_remote_images: bool
    has_tracking_pixel: bool


# Presentational markup found in real mail. Everything else is dropped (its text kept), including
# form controls, frames, embeds, meta/link/base and SVG/MathML (which have their own script paths).
_TAGS = frozenset(
    {
        *("a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big"),
        *("blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd"),
        *("del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font"),
        *("footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins"),
        *("kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s"),
        *("samp", "section", "small", "span", "strike", "strong", "sub", "summary", "sup"),
        *("table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var"),
        "wbr",
    }
)
# Removed together with their content: code, style sheets, and content that only makes sense
# inside a construct we do not allow (option labels, frame fallbacks).
_CLEAN_CONTENT_TAGS = frozenset(
    {
        *("script", "style", "title", "noscript", "template", "iframe", "frame", "frameset"),
        *("noframes", "object", "embed", "applet", "noembed", "textarea", "select", "svg"),
        *("math", "xmp", "head"),
    }
)
# No id/name/class: they would let mail clobber the surrounding page's DOM and styles.
_ATTRIBUTES = {
    "*": {"align", "valign", "dir", "lang", "title", "style", "width", "height", "bgcolor"},
    "a": {"href"},
    "img": {"src", "srcset", "alt", "border", "hspace", "vspace"},
    "table": {"background", "border", "cellpadding", "cellspacing", "summary", "frame", "rules"},
    "td": {"background", "colspan", "rowspan", "nowrap", "headers", "scope", "abbr"},
    "th": {"background", "colspan", "rowspan", "nowrap", "headers", "scope", "abbr"},
    "tr": {"background"},
    "col": {"span"},
    "colgroup": {"span"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
    "blockquote": {"type"},
    "time": {"datetime"},
}
# Layout and typography only. Deliberately absent: position/top/left/z-index (overlaying the
# surrounding UI), content/cursor/list-style-image/border-image/mask/filter (they load URLs),
# behavior/-moz-binding (they run code in old engines).
_STYLE_PROPERTIES = frozenset(
    {
        *("color", "background", "background-color", "background-image", "background-position"),
        *("background-repeat", "background-size", "border", "border-collapse", "border-color"),
        *("border-radius", "border-spacing", "border-style", "border-width", "border-top"),
        *("border-right", "border-bottom", "border-left", "border-top-color", "border-top-style"),
        *("border-top-width", "border-right-color", "border-right-style", "border-right-width"),
        *("border-bottom-color", "border-bottom-style", "border-bottom-width"),
        *("border-left-color", "border-left-style", "border-left-width", "font", "font-family"),
        *("font-size", "font-style", "font-variant", "font-weight", "line-height"),
        *("letter-spacing", "word-spacing", "text-align", "text-decoration", "text-indent"),
        *("text-transform", "white-space", "word-break", "word-wrap", "overflow-wrap"),
        *("vertical-align", "direction", "margin", "margin-top", "margin-right", "margin-bottom"),
        *("margin-left", "padding", "padding-top", "padding-right", "padding-bottom"),
        *("padding-left", "width", "height", "min-width", "max-width", "min-height"),
        *("max-height", "display", "visibility", "table-layout", "list-style-type", "float"),
        *("clear", "overflow", "opacity"),
    }
)
# nh3 checks href/src schemes with these; `data:` and `cid:` are narrowed further per attribute.
_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid", "data"})
_URL_EDGE_JUNK = "".join(chr(c) for c in range(0x21))
_LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:", "//")
_REMOTE_PREFIXES = ("http:", "https:", "//")
# Hosts and paths of read-tracking services, matched in the lower-cased image URL: a remote image
# matching one is a tracking pixel whatever its size. Kept short (the size rule below catches
# most others) and as plain substrings, which are several times cheaper than a regex alternation.
_TRACKER_MARKERS = (
    "mailtrack.io",  # Mailtrack (Gmail extension)
    "list-manage.com/track",  # Mailchimp
    "mailchimp.com/track",
    "sendgrid.net/wf/open",  # SendGrid
    "/wf/open",  # SendGrid on a sender's own domain
    "mandrillapp.com/track",  # Mandrill
    "hubspotemail.net",  # HubSpot
    "hubspotlinks.com",
    "hs-analytics.net",
    "track.hubspot.com",
    "sidekickopen",  # HubSpot Sales
    "google-analytics.com/collect",  # GA measurement protocol
    "google-analytics.com/g/collect",
    "mixpanel.com/track",
    "/open.php",  # Salesforce Marketing Cloud and many home-grown ones
    "/open.aspx",
    "/track/open",  # Mailgun, Postmark-style
    "/e/o/",  # Customer.io
    "mailfoogae.appspot.com",  # Streak
    "/pixel.gif",  # generic ".../pixel.gif", "pixel.example.com/..."
    "/pixel.png",
    "/pixel?",
    "/pixel/",
    "//pixel.",
)

_IMG_TAG_RE = re.compile(r"<img\b[^>]*>")
_BACKGROUND_TAG_RE = re.compile(r"<(?:table|td|th|tr)\b[^>]* background=\"[^\"]*\"[^>]*>")
# Any style with a function call: url() and friends may fetch, expression() may run.
_STYLE_FUNCTION_TAG_RE = re.compile(r'<[a-z][a-z0-9]*\b[^>]* style="[^"]*\([^>]*>')
_ATTR_RE = re.compile(r' ([a-z][a-z0-9-]*)="([^"]*)"')
_STYLE_ATTR_RE = re.compile(r' style="([^"]*)"')
_CSS_DECLARATION_RE = re.compile(r'(?:[^;"]|"(?:[^"\\]|\\.)*")+')
_CSS_FUNCTION_RE = re.compile(r"([a-z-]+)\(", re.IGNORECASE)
_CSS_URL_RE = re.compile(r'url\(\s*(?:"((?:[^"\\]|\\.)*)"|([^)\s]*))\s*\)', re.IGNORECASE)
_CSS_SAFE_FUNCTIONS = frozenset(
    {"url", "rgb", "rgba", "hsl", "hsla", "linear-gradient", "radial-gradient"}
)
_CSS_PX_RE = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+)(?:px)?\s*(?:!important\s*)?(?=;|$)")
_CSS_HIDDEN_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _normalise_url(value: str) -> str:
    # WHATWG URL parsing ignores ASCII tab/newline anywhere and C0/space at the ends; so must
    # we, or "java\tscript:"-style tricks would slip past a prefix check.
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "").replace("\n", "").replace("\r", "")
    return value.strip(_URL_EDGE_JUNK)


def _without(value: str, *chars: str) -> str:
    # str.translate with a dict is slow; attribute values rarely contain these characters.
    for char in chars:
        if char in value:
            value = value.replace(char, "")
    return value


def _url_value(url: str) -> str:
    if "<" in url or ">" in url:
        url = url.replace("<", "%3C").replace(">", "%3E")
    return url


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Per-attribute policy, run by nh3 on every attribute it keeps (after its own checks)."""
    if attribute == "href":
        # Absolute links only: data:/cid: (which nh3 lets through for images) have no place in
        # a link, and a relative link would open a page of Postwise itself.
        url = _normalise_url(value)
        return _url_value(url) if url.lower().startswith(_LINK_SCHEMES) else None
    if attribute == "src" or attribute == "background":
        url = _normalise_url(value)
        lowered = url.lower()
        if lowered.startswith(_REMOTE_PREFIXES) or lowered.startswith("cid:"):
            return _url_value(url)
        if attribute == "src" and lowered.startswith("data:image/"):
            return _url_value(url)
        # Relative URLs would resolve against our own origin; other schemes have no business here.
        return None
    if attribute == "srcset":
        # Only plain remote candidates are kept (they are blocked later like src); a srcset with
        # anything else is dropped, src alone still shows the image.
        candidates = [c.strip().lower() for c in value.split(",")]
        if all(c.startswith(_REMOTE_PREFIXES) for c in candidates):
            return _url_value(value)
        return None
    if attribute == "style":
        # Backslashes are CSS escapes: nh3 would decode `u\72l(` into `url(` after our checks,
        # and `\3c` into `<`, so style values lose them before nh3 sees them.
        return _without(value, "<", ">", "\\")
    return _without(value, "<", ">")


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_CLEAN_CONTENT_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    url_schemes=_URL_SCHEMES,
    filter_style_properties=_STYLE_PROPERTIES,
)


class _Findings:
    """What the post-pass saw in one document (the regex callbacks cannot return it)."""

    __slots__ = ("allow_remote", "remote", "tracker")

    def __init__(self, *, allow_remote: bool) -> None:
        self.allow_remote = allow_remote
        self.remote = False
        self.tracker = False


def _is_remote(url: str) -> bool:
    return url.lower().startswith(_REMOTE_PREFIXES)


def _pixels(attrs: dict[str, str], name: str) -> int | None:
    value = attrs.get(name, "").strip().lower().removesuffix("px").strip()
    if value.isdigit():
        return int(value)
    for prop, number in _CSS_PX_RE.findall(attrs.get("style", "")):
        if prop == name:
            return int(number)
    return None


def _is_tracking_pixel(attrs: dict[str, str], src: str) -> bool:
    lowered = src.lower()
    if any(marker in lowered for marker in _TRACKER_MARKERS):
        return True
    width, height = _pixels(attrs, "width"), _pixels(attrs, "height")
    if width == 0 or height == 0:
        return True
    if width is not None and height is not None and width <= 1 and height <= 1:
        return True
    return bool(_CSS_HIDDEN_RE.search(attrs.get("style", "")))


def _rewrite_img(match: re.Match[str], found: _Findings) -> str:
    tag = match.group(0)
    attrs = dict(_ATTR_RE.findall(tag))
    src = attrs.get("src", "")
    remote_src = _is_remote(src)
    if remote_src and _is_tracking_pixel(attrs, src):
        found.tracker = True
        return ""
    if not remote_src and "srcset" not in attrs:
        return tag
    found.remote = True
    if found.allow_remote:
        return tag
    # Values cannot contain '"' (escaped by the serialiser), so ' src="' is always an attribute.
    tag = tag.replace(' src="', ' data-postwise-src="') if remote_src else tag
    return tag.replace(' srcset="', ' data-postwise-srcset="')


_BLOCKED_TAG_RE = re.compile(r"<(?:img|table|td|th|tr)\b[^>]* data-postwise-[a-z]+=\"[^>]*>")
_BLOCKED_ATTR_RE = re.compile(r' data-postwise-(src|srcset|background)="')


def restore_remote_images(html: str) -> str:
    """The "show images" switch: put back what `sanitize_html` moved aside (tracking pixels
    stay removed). Only tags are touched: in sanitised output `<` and `>` delimit tags alone,
    so text that merely mentions `data-postwise-src` is left as it is."""
    return _BLOCKED_TAG_RE.sub(lambda m: _BLOCKED_ATTR_RE.sub(r' \1="', m.group(0)), html)


def _rewrite_background(match: re.Match[str], found: _Findings) -> str:
    tag = match.group(0)
    attrs = dict(_ATTR_RE.findall(tag))
    if not _is_remote(attrs.get("background", "")):
        return tag
    found.remote = True
    if found.allow_remote:
        return tag
    return tag.replace(' background="', ' data-postwise-background="')


def _safe_declaration(declaration: str, found: _Findings) -> bool:
    """Whether one CSS declaration (nh3-normalised, unescaped) may stay."""
    if "\\" in declaration:
        return False
    for name in _CSS_FUNCTION_RE.findall(declaration):
        if name.lower() not in _CSS_SAFE_FUNCTIONS:
            return False  # image-set(), element(), cross-fade(), expression(), ...
    for quoted, bare in _CSS_URL_RE.findall(declaration):
        url = _normalise_url(quoted or bare).lower()
        if url.startswith(("cid:", "data:image/")):
            continue
        if not url.startswith(_REMOTE_PREFIXES):
            return False
        found.remote = True
        if not found.allow_remote:
            return False
    return declaration.lower().count("url(") == len(_CSS_URL_RE.findall(declaration))


def _rewrite_style(match: re.Match[str], found: _Findings) -> str:
    def one(style: re.Match[str]) -> str:
        css = html_lib.unescape(style.group(1))
        kept = [d for d in _CSS_DECLARATION_RE.findall(css) if _safe_declaration(d, found)]
        return ' style="' + html_lib.escape(";".join(kept), quote=True) + '"'

    return _STYLE_ATTR_RE.sub(one, match.group(0))


# html5ever walks its stack of open elements at every block container's start tag, so a few
# hundred KB of unclosed <div>s cost seconds (quadratic). Mail nested that deep is broken or
# hostile, and is shown as plain text instead.
_MAX_CONTAINER_DEPTH = 1000
_CONTAINER_TAG_RE = re.compile(
    r"<(/?)(?:div|blockquote|ul|ol|dl|section|center|article|pre|address|aside|header|footer"
    r"|nav|main|figure|figcaption|details|summary|fieldset|menu|dir|hgroup|listing)\b",
    re.IGNORECASE,
)
_ANY_TAG_RE = re.compile(r"<[^>]*>")


def _too_deep(html: str) -> bool:
    if html.count("<") <= _MAX_CONTAINER_DEPTH:  # cheap: it cannot nest deeper than it has tags
        return False
    depth = 0
    for closing in _CONTAINER_TAG_RE.findall(html):
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > _MAX_CONTAINER_DEPTH:
            return True
    return False


def _flat_text(html: str) -> str:
    """Text of HTML we will not parse: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html_lib.unescape(_ANY_TAG_RE.sub(" ", html)).split())


def sanitize_html(html: str, *, allow_remote_images: bool = False) -> SanitizedHtml:
    """Sanitise mail HTML for display; see the module docstring for the rules."""
    if _too_deep(html):
        text = html_lib.escape(_flat_text(html))
        return SanitizedHtml(
            html=f"<p>{text}</p>", has_remote_images=False, has_tracking_pixel=False
        )
    out = _CLEANER.clean(html)
    found = _Findings(allow_remote=allow_remote_images)
    if "<img" in out:
        out = _IMG_TAG_RE.sub(lambda m: _rewrite_img(m, found), out)
    if ' background="' in out:
        out = _BACKGROUND_TAG_RE.sub(lambda m: _rewrite_background(m, found), out)
    if "(" in out and ' style="' in out:
        out = _STYLE_FUNCTION_TAG_RE.sub(lambda m: _rewrite_style(m, found), out)
    return SanitizedHtml(html=out, has_remote_images=found.remote, has_tracking_pixel=found.tracker)
