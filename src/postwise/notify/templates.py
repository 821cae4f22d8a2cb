"""Transactional mail templates: one HTML layout and one text layout, Jinja2 with strict context.

Each template `<name>` has `<name>.subject.txt`, `<name>.txt` and `<name>.html` in `templates/`.
HTML is autoescaped; text and subject are not (they are not HTML), and the subject is folded
onto one line so no value can start a new header.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Final

import jinja2

from postwise.notify.mailer import EmailMessage

PRODUCT_NAME: Final = "Postwise"

# Template name -> the context keys it needs. Keys ending in "link" must be http(s) URLs.
TEMPLATES: Final[Mapping[str, frozenset[str]]] = {
    "verify_email": frozenset({"name", "link", "expires_hours"}),
    "password_reset": frozenset({"name", "link", "expires_minutes"}),
    "password_changed": frozenset({"name", "when", "ip", "link"}),
    "new_sign_in": frozenset({"name", "when", "ip", "user_agent", "link"}),
    "signup_attempt": frozenset({"name", "signin_link", "forgot_link"}),
    "invite": frozenset({"inviter", "link", "expires_hours"}),
}


def format_when(value: object) -> str:
    """A datetime (or its ISO string, as jobs receive it) as an unambiguous UTC time."""
    moment: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if moment is None:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC")


def quantity(count: object, unit: str) -> str:
    """`24|quantity("hour")` -> "24 hours"; `1|quantity("hour")` -> "1 hour"."""
    return f"{count} {unit}" if str(count) == "1" else f"{count} {unit}s"


def _environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("postwise.notify", "templates"),
        # Text parts and subjects are not HTML: escaping would show "&amp;" to the reader.
        autoescape=html,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = format_when
    env.filters["quantity"] = quantity
    return env


@cache
def _html_env() -> jinja2.Environment:
    return _environment(html=True)


@cache
def _text_env() -> jinja2.Environment:
    return _environment(html=False)


def _check_context(template: str, context: Mapping[str, object]) -> None:
    required = TEMPLATES.get(template)
    if required is None:
        raise ValueError(f"unknown email template {template!r}")
    missing = sorted(required - context.keys())
    if missing:
        raise ValueError(f"email template {template!r} needs {', '.join(missing)}")
    for key in required:
        value = context[key]
        if key.endswith("link") and not (
            isinstance(value, str) and value.lower().startswith(("https://", "http://"))
        ):
            raise ValueError(f"{key!r} of email template {template!r} must be an http(s) URL")


def render_email(template: str, *, to: str, context: Mapping[str, object]) -> EmailMessage:
    """Render `template` for `to`; ValueError for an unknown template or an incomplete context."""
    _check_context(template, context)
    values: dict[str, object] = {"product": PRODUCT_NAME, **context}
    subject = " ".join(_text_env().get_template(f"{template}.subject.txt").render(values).split())
    values["subject"] = subject
    text = _text_env().get_template(f"{template}.txt").render(values)
    html = _html_env().get_template(f"{template}.html").render(values)
    return EmailMessage(to=to, subject=subject, text=text, html=html)
