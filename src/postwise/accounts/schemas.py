"""Connected mailboxes over the API. No model here carries the password back out."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from postwise.accounts.models import AccountKind, Security, SyncState

# One DNS label: letters, digits, hyphens inside (and underscores, which some internal names
# carry). Checked label by label, so nothing can smuggle a path, a port or whitespace in.
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def _normalise_host(value: str) -> str:
    host = value.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        # Internationalised names travel as their ASCII (punycode) form.
        host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError("not a valid host name or IP address") from error
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("not a valid host name or IP address")
    return host


_NOT_IN_LOCAL = frozenset(' \t\r\n"<>(),;:[]\\')
# A password is the user's business, but it travels inside an IMAP command line (LOGIN): a CR
# or LF there would end the command and start one of the sender's choosing.
_NOT_IN_PASSWORD = frozenset("\r\n\0")


def _no_control_characters(value: object) -> object:
    """Refuse C0/C1 controls (CR, LF, NUL, ESC, ...) and Unicode line breaks before anything
    trims them: these fields reach IMAP commands, SMTP, logs and mail headers verbatim."""
    if isinstance(value, str) and any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _no_line_breaks(value: object) -> object:
    if isinstance(value, str) and _NOT_IN_PASSWORD & set(value):
        raise ValueError("must not contain CR, LF or NUL")
    return value


_Plain = BeforeValidator(_no_control_characters)
# For any other text that ends up in a header (compose: subjects, recipient names).
SingleLine = _Plain


def _normalise_email(value: str) -> str:
    """Lower-cased, one spelling per mailbox ("Ada@Example.com" is "ada@example.com").

    Looser than the sign-up check (postwise.kit.emails): a mailbox on a private server may
    carry an internal host name that is no valid DNS name (underscores), and it is the server,
    not this form, that decides whether the address exists. Special-use domains (.local,
    .test, localhost) pass here as they do at sign-up.
    """
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or len(local) > 64 or any(c in _NOT_IN_LOCAL for c in local):
        raise ValueError("not a valid email address")
    no_domain = ValueError("not a valid email address: the part after the @ is no domain name")
    try:
        domain = _normalise_host(domain)
    except ValueError:
        raise no_domain from None
    if _is_ip(domain):
        raise no_domain
    return f"{local.lower()}@{domain}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


Email = Annotated[str, Field(max_length=320), _Plain, AfterValidator(_normalise_email)]
Host = Annotated[str, Field(max_length=255), _Plain, AfterValidator(_normalise_host)]
Port = Annotated[int, Field(ge=1, le=65535)]
# What the user types for their mailbox: any non-empty string, never judged or trimmed (but
# no line breaks: see _NOT_IN_PASSWORD).
MailPassword = Annotated[
    str, Field(min_length=1, max_length=1024), BeforeValidator(_no_line_breaks)
]
Username = Annotated[str, Field(min_length=1, max_length=320), _Plain]
DisplayName = Annotated[str, Field(max_length=200), _Plain]
WindowDays = Annotated[int, Field(ge=1, le=3650)]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    username: Username | None = None
    password: MailPassword
    display_name: DisplayName = ""
    imap_host: Host | None = None
    imap_port: Port | None = None
    imap_security: Security | None = None
    smtp_host: Host | None = None
    smtp_port: Port | None = None
    smtp_security: Security | None = None
    sync_window_days: WindowDays = 90


class AccountUpdate(BaseModel):
    """Only the fields sent change; null means "leave as it is"."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    username: Username | None = None
    password: MailPassword | None = None
    imap_host: Host | None = None
    imap_port: Port | None = None
    imap_security: Security | None = None
    smtp_host: Host | None = None
    smtp_port: Port | None = None
    smtp_security: Security | None = None
    sync_window_days: WindowDays | None = None


class DiscoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class ServerOut(BaseModel):
    host: str
    port: int
    security: Security


class DiscoveredServers(BaseModel):
    """Where a mailbox's servers are, found from its address alone (nothing is signed in to)."""

    imap: ServerOut
    smtp: ServerOut
    # The sign-in name the source asks for; null means the address itself.
    username: str | None
    # Which source knew them: the built-in table, DNS SRV records or an autoconfig document.
    source: Literal["provider", "dns", "autoconfig"]
    # The provider's name when the built-in table knew it ("Gmail").
    provider: str | None
    # What people trip over with this provider (an app password, IMAP switched off).
    sign_in_hint: str


class AccountCounts(BaseModel):
    folders: int
    messages: int
    unread: int


class AccountOut(BaseModel):
    id: uuid.UUID
    kind: AccountKind
    email: str
    display_name: str
    username: str
    imap_host: str
    imap_port: int
    imap_security: Security
    smtp_host: str
    smtp_port: int
    smtp_security: Security
    sync_window_days: int
    sync_state: SyncState
    last_error: str | None
    last_error_code: str | None
    last_synced_at: datetime | None
    created_at: datetime
    is_demo: bool
    counts: AccountCounts


class AccountList(BaseModel):
    items: list[AccountOut]


class SyncQueued(BaseModel):
    status: Literal["queued"] = "queued"
