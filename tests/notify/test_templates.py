"""Every template renders both parts from one layout, escapes HTML and carries the links."""

from __future__ import annotations

import re
from datetime import datetime
from importlib.resources import files

import pytest

from postwise.notify.outbox import find_links
from postwise.notify.templates import TEMPLATES, format_when, render_email

TO = "ada@example.com"
LINK = "https://mail.example.com/verify-email/?token=tok_abc123&next=%2F"

SAMPLES: dict[str, dict[str, object]] = {
    "verify_email": {"name": "Ada", "link": LINK, "expires_hours": 24},
    "password_reset": {"name": "Ada", "link": LINK, "expires_minutes": 60},
    "password_changed": {
        "name": "Ada",
        "when": "2025-03-01T10:05:00+00:00",
        "ip": "203.0.113.7",
        "link": LINK,
    },
    "new_sign_in": {
        "name": "Ada",
        "when": "2025-03-01T10:05:00+00:00",
        "ip": "203.0.113.7",
        "user_agent": "Firefox 135 on Linux",
        "link": LINK,
    },
    "signup_attempt": {
        "name": "Ada",
        "signin_link": "https://mail.example.com/signin/",
        "forgot_link": "https://mail.example.com/forgot-password/",
    },
    "invite": {"inviter": "Grace", "link": LINK, "expires_hours": 168},
}
# The key holding the person's name in each template (escaping is checked through it).
NAME_KEY = {name: "inviter" if name == "invite" else "name" for name in SAMPLES}


def _links(context: dict[str, object]) -> list[str]:
    return [str(value) for key, value in context.items() if key.endswith("link")]


def test_every_template_has_a_sample_and_its_three_files() -> None:
    assert set(SAMPLES) == set(TEMPLATES)
    folder = files("postwise.notify") / "templates"
    for name in TEMPLATES:
        for suffix in ("subject.txt", "txt", "html"):
            assert (folder / f"{name}.{suffix}").is_file(), f"{name}.{suffix}"


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_renders_both_parts_with_the_layouts(template: str) -> None:
    context = SAMPLES[template]
    message = render_email(template, to=TO, context=context)

    assert message.to == TO
    assert message.subject and "\n" not in message.subject
    assert message.subject == message.subject.strip()
    # HTML: one layout (doctype, product name, footer saying why), the subject as its title.
    assert message.html.lstrip().startswith("<!DOCTYPE html>")
    assert f"<title>{message.subject}</title>" in message.html
    assert "Postwise" in message.html
    assert "You received this" in message.html
    assert "replies to it are not read" in message.html
    # Text: the text layout, no markup and no escaping.
    assert "Postwise" in message.text
    assert "You received this" in message.text
    assert not re.search(r"<[a-z/!]", message.text)
    assert "&amp;" not in message.text
    for link in _links(context):
        # The text part carries each link exactly as passed, on a line of its own.
        assert f"\n{link}\n" in message.text
        assert f'href="{link.replace("&", "&amp;")}"' in message.html
    assert find_links(message.text) == _links(context)


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_html_escapes_names_but_text_keeps_them(template: str) -> None:
    hostile = '<script>alert("x")</script> & Co'
    context = {**SAMPLES[template], NAME_KEY[template]: hostile}
    message = render_email(template, to=TO, context=context)
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in message.html
    assert hostile in message.text


def test_verify_email_wording() -> None:
    message = render_email("verify_email", to=TO, context=SAMPLES["verify_email"])
    assert message.subject == "Confirm your email address for Postwise"
    assert message.text.startswith("Hi Ada,\n")
    assert "expires in 24 hours" in message.text
    assert "expires in 24 hours" in message.html
    one_hour = render_email(
        "verify_email", to=TO, context={**SAMPLES["verify_email"], "expires_hours": 1}
    )
    assert "expires in 1 hour." in one_hour.text


def test_missing_name_greets_generically() -> None:
    message = render_email(
        "password_reset", to=TO, context={**SAMPLES["password_reset"], "name": None}
    )
    assert message.text.startswith("Hi there,\n")
    assert "expires in 60 minutes" in message.text


def test_security_notices_say_when_where_and_what_to_do() -> None:
    changed = render_email("password_changed", to=TO, context=SAMPLES["password_changed"])
    assert "01 March 2025, 10:05 UTC" in changed.text
    assert "203.0.113.7" in changed.text and "203.0.113.7" in changed.html
    assert "If this wasn't you, reset your password" in changed.text
    sign_in = render_email("new_sign_in", to=TO, context=SAMPLES["new_sign_in"])
    assert "Firefox 135 on Linux" in sign_in.text and "Firefox 135 on Linux" in sign_in.html
    unknown = render_email("new_sign_in", to=TO, context={**SAMPLES["new_sign_in"], "ip": None})
    assert "IP address: unknown" in unknown.text


def test_subject_is_one_line_whatever_the_values() -> None:
    context = {**SAMPLES["invite"], "inviter": "Eve\r\nBcc: victim@example.com"}
    message = render_email("invite", to=TO, context=context)
    assert message.subject == "Eve Bcc: victim@example.com invited you to Postwise"


def test_unknown_template_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown email template 'nope'"):
        render_email("nope", to=TO, context={})


def test_missing_context_is_a_value_error_naming_the_keys() -> None:
    with pytest.raises(ValueError, match="expires_hours, link"):
        render_email("verify_email", to=TO, context={"name": "Ada"})


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/x", 42])
def test_links_must_be_http_urls(link: object) -> None:
    with pytest.raises(ValueError, match="must be an http"):
        render_email("verify_email", to=TO, context={**SAMPLES["verify_email"], "link": link})


def test_format_when() -> None:
    assert format_when("2025-03-01T12:05:00+02:00") == "01 March 2025, 10:05 UTC"
    assert format_when(datetime(2025, 3, 1, 10, 5)) == "01 March 2025, 10:05 UTC"
    assert format_when("yesterday") == "yesterday"
