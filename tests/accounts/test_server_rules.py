"""Which port and security a partly filled form means (pure rules, no network)."""

from __future__ import annotations

import pytest

from postwise.accounts.connection import ServerEndpoint
from postwise.accounts.models import Security
from postwise.accounts.schemas import AccountUpdate
from postwise.accounts.service import MailConnection, _given_endpoint, _patched

SSL, STARTTLS, NONE = Security.SSL, Security.STARTTLS, Security.NONE


@pytest.mark.parametrize(
    ("server", "port", "security", "expected"),
    [
        ("imap", None, None, (993, SSL)),
        ("imap", None, STARTTLS, (143, STARTTLS)),
        ("imap", None, NONE, (143, NONE)),
        ("imap", 143, None, (143, STARTTLS)),
        ("imap", 993, None, (993, SSL)),
        ("imap", 1143, NONE, (1143, NONE)),
        ("smtp", None, None, (465, SSL)),
        ("smtp", None, STARTTLS, (587, STARTTLS)),
        ("smtp", 587, None, (587, STARTTLS)),
        ("smtp", 25, None, (25, STARTTLS)),
        ("smtp", 465, None, (465, SSL)),
    ],
)
def test_missing_port_or_security(server, port, security, expected) -> None:
    endpoint = _given_endpoint(server, host="mail.example.com", port=port, security=security)
    assert (endpoint.port, endpoint.security) == expected


CURRENT = MailConnection(
    imap=ServerEndpoint("imap.example.com", 993, SSL),
    smtp=ServerEndpoint("smtp.example.com", 2525, STARTTLS),
    username="ada@example.com",
)


def test_switching_security_moves_a_default_port_along() -> None:
    wanted = _patched(CURRENT, AccountUpdate(imap_security=STARTTLS, smtp_security=SSL))
    assert wanted.imap == ServerEndpoint("imap.example.com", 143, STARTTLS)
    # 2525 was chosen by someone: it stays whatever the security.
    assert wanted.smtp == ServerEndpoint("smtp.example.com", 2525, SSL)


def test_patch_changes_only_what_is_sent() -> None:
    assert _patched(CURRENT, AccountUpdate()) == CURRENT
    assert _patched(CURRENT, AccountUpdate(display_name="x", sync_window_days=5)) == CURRENT
    wanted = _patched(CURRENT, AccountUpdate(imap_host="other.example.com", username="ada"))
    assert wanted.imap == ServerEndpoint("other.example.com", 993, SSL)
    assert wanted.username == "ada"
    assert wanted.smtp == CURRENT.smtp


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Imap.Example.COM.", "imap.example.com"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("mail_relay.corp.local", "mail_relay.corp.local"),
    ],
)
def test_host_names_are_normalised(given: str, stored: str) -> None:
    assert AccountUpdate(imap_host=given).imap_host == stored


@pytest.mark.parametrize(
    "bad", ["", "a b", "host/path", "host:993", "-leading.example", "x" * 64 + ".example", "a..b"]
)
def test_bad_host_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="host"):
        AccountUpdate(imap_host=bad)
