"""Handing built messages to a mailbox's SMTP server, and judging what went wrong.

One `SmtpConnection` per mailbox and drain: it connects exactly as the mailbox's connection test
does (`accounts.connection.open_smtp`: the private-hosts policy, the resolved and pinned
address, ssl/starttls/none, AUTH when offered) and then carries every due message of that
mailbox, one MAIL/RCPT/DATA transaction after the other.

Each message is sent in steps so that the caller can record, and commit, that the body is about
to be handed over (`before_data`) before DATA: that record is what lets the outbox tell "never
handed over" (safe to send again) from "may have been delivered" after a crash.

What a failure means (`Failure`):
- a 4xx reply, a lost connection or a timeout before DATA: temporary, retried with backoff;
- a 5xx reply: permanent, with the server's reply kept for the user;
- 535 on AUTH (or a password that no longer decrypts): permanent `smtp_auth_failed`;
- a host the private-hosts policy refuses: permanent `host_not_allowed`;
- the connection lost or timing out *during* DATA: `delivery_uncertain` (the server may have
  taken the message and its answer got lost), never retried by itself.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import aiosmtplib
import structlog

from postwise.accounts.connection import (
    AUTH_FAILED,
    HOST_NOT_ALLOWED,
    HOST_UNREACHABLE,
    TIMEOUT,
    ConnectionProblem,
    ServerEndpoint,
    close_smtp,
    open_smtp,
    resolve_route,
)
from postwise.accounts.credentials import DecryptionError, open_password
from postwise.accounts.models import MailAccount, Security
from postwise.compose.building import Envelope
from postwise.config import Settings
from postwise.kit.crypto import Keyring

log = structlog.get_logger(__name__)

SMTP_AUTH_FAILED: Final = "smtp_auth_failed"
SMTP_REJECTED: Final = "smtp_rejected"
SMTP_UNAVAILABLE: Final = "smtp_unavailable"
SMTP_SETTINGS: Final = "smtp_settings"
SMTP_NOT_CONFIGURED: Final = "smtp_not_configured"
SMTPUTF8_UNSUPPORTED: Final = "smtputf8_unsupported"
DELIVERY_UNCERTAIN: Final = "delivery_uncertain"
# Kept for the user (outbox entry) and logs: enough for any real reply, bounded for a hostile one.
REPLY_LIMIT = 500
# The final answer to DATA may take long (a server scanning the message); RFC 5321 4.5.3.2.6
# even suggests ten minutes. Bounded by the claim, see `data_timeout`.
_DATA_TIMEOUT_MIN = 60.0

AUTH_SENTENCE = (
    "The mail server refused this mailbox's password. If you changed it, enter the new one in "
    "Settings → Mailboxes, then send the message again from the outbox."
)
UNCERTAIN_SENTENCE = (
    "The connection broke while the message was being handed to the mail server, so it may "
    "have been sent. Check your Sent folder or ask a recipient before sending it again."
)


@dataclass(frozen=True, slots=True)
class Failure:
    temporary: bool
    code: str
    # For the user (the outbox entry's last_error).
    message: str
    # The server's own reply ("550 5.1.1 ..."), truncated; None when it said nothing.
    reply: str | None = None


class DeliveryError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.code}: {failure.message}")
        self.failure = failure


class ClaimLost(Exception):
    """The outbox entry is no longer this worker's to send (see `compose.outbox`)."""


def format_reply(code: int, message: str) -> str:
    text = " ".join(f"{code} {message}".split())
    return text[:REPLY_LIMIT]


def _reply_failure(error: aiosmtplib.SMTPResponseException, *, step: str) -> Failure:
    reply = format_reply(error.code, error.message) if error.code > 0 else None
    if 500 <= error.code < 600:
        return Failure(False, SMTP_REJECTED, f"The mail server refused the message: {reply}", reply)
    detail = f"answered {reply}" if reply else "gave an answer that is not SMTP"
    return Failure(
        True, SMTP_UNAVAILABLE, f"The mail server {detail} at {step}; trying again.", reply
    )


def _network_failure(error: BaseException, *, step: str) -> Failure:
    kind = "timed out" if isinstance(error, TimeoutError) else "closed the connection"
    return Failure(True, SMTP_UNAVAILABLE, f"The mail server {kind} at {step}; trying again.")


def connection_failure(problem: ConnectionProblem) -> Failure:
    """What a failure to connect or sign in means for the message."""
    cause = problem.__cause__
    if problem.code == AUTH_FAILED:
        if isinstance(cause, aiosmtplib.SMTPResponseException) and 400 <= cause.code < 500:
            # 454: the server cannot check passwords right now.
            return Failure(True, SMTP_UNAVAILABLE, problem.detail, format_reply(cause.code, ""))
        reply = (
            format_reply(cause.code, cause.message)
            if isinstance(cause, aiosmtplib.SMTPResponseException) and cause.code > 0
            else None
        )
        return Failure(False, SMTP_AUTH_FAILED, AUTH_SENTENCE, reply)
    if problem.code == HOST_NOT_ALLOWED:
        return Failure(False, HOST_NOT_ALLOWED, problem.detail)
    if problem.code in (HOST_UNREACHABLE, TIMEOUT):
        return Failure(True, SMTP_UNAVAILABLE, problem.detail)
    # tls_error, not_smtp: the settings are wrong; retrying cannot help.
    return Failure(False, SMTP_SETTINGS, problem.detail)


def data_timeout(settings: Settings) -> float:
    """Long enough for a slow server, short of the claim (which `before_data` renews), so a
    worker that is still waiting is never judged dead by the sweep."""
    return min(
        max(settings.mail_connect_timeout, _DATA_TIMEOUT_MIN), settings.send_claim_seconds * 0.8
    )


# Commits "the body is about to go" and says whether the entry is still ours to send.
BeforeData = Callable[[], Awaitable[bool]]


class SmtpConnection:
    """A signed-in session with one mailbox's SMTP server, for one message after another."""

    def __init__(self, client: aiosmtplib.SMTP, *, data_timeout: float) -> None:
        self._client = client
        self._data_timeout = data_timeout

    @classmethod
    async def open(
        cls,
        account: MailAccount,
        *,
        settings: Settings,
        keyring: Keyring,
        ssl_context: ssl.SSLContext,
    ) -> SmtpConnection:
        """Raises DeliveryError with what the failure means for the messages."""
        if not account.smtp_host or not account.smtp_port:
            raise DeliveryError(
                Failure(
                    False,
                    SMTP_NOT_CONFIGURED,
                    "This mailbox has no outgoing (SMTP) server; add one in Settings → Mailboxes.",
                )
            )
        try:
            # No stored password: a relay that accepts mail by address (no AUTH offered).
            password = open_password(keyring, account.credentials) if account.credentials else ""
        except DecryptionError as error:
            # Sealed under a secret this server no longer has: only the user can fix it.
            raise DeliveryError(Failure(False, SMTP_AUTH_FAILED, AUTH_SENTENCE)) from error
        endpoint = ServerEndpoint(
            host=account.smtp_host, port=account.smtp_port, security=Security(account.smtp_security)
        )
        timeout = settings.mail_connect_timeout
        try:
            route = await resolve_route(
                endpoint, server="smtp", policy=settings.mail_host_policy, timeout=timeout
            )
            client = await open_smtp(
                route, account.username, password, timeout=timeout, ssl_context=ssl_context
            )
        except ConnectionProblem as problem:
            raise DeliveryError(connection_failure(problem)) from problem
        return cls(client, data_timeout=data_timeout(settings))

    @property
    def usable(self) -> bool:
        return self._client.is_connected

    async def close(self) -> None:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # The worker is being stopped: no polite QUIT (the server may be busy with a
            # message and answer it late), just hang up.
            self._client.close()
            return
        await close_smtp(self._client)

    async def _reset(self) -> None:
        """Abandon the transaction so the session can carry the next message; a session that
        cannot is closed (the next message opens a new one)."""
        if not self._client.is_connected:
            return
        try:
            await self._client.rset()
        except (aiosmtplib.SMTPException, OSError):
            self._client.close()

    async def send(self, envelope: Envelope, raw: bytes, *, before_data: BeforeData) -> str:
        """Send one message; returns the server's reply to it ("250 ...").

        Raises DeliveryError, or ClaimLost (nothing was handed over) when `before_data` says
        the entry is no longer ours."""
        client = self._client
        encoding = "utf-8" if envelope.smtputf8 else "ascii"
        options: list[str] = []
        if envelope.smtputf8:
            if not client.supports_extension("smtputf8"):
                raise DeliveryError(
                    Failure(
                        False,
                        SMTPUTF8_UNSUPPORTED,
                        "An address of this message has non-ASCII characters before the @, "
                        "which this mailbox's mail server cannot send (no SMTPUTF8).",
                    )
                )
            options.append("SMTPUTF8")
        if client.supports_extension("size"):
            options.append(f"SIZE={len(raw)}")
        step = "MAIL FROM"
        try:
            await client.mail(envelope.sender, options=options, encoding=encoding)
            step = "RCPT TO"
            for recipient in envelope.recipients:
                await client.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPResponseException as error:
            await self._reset()
            raise DeliveryError(_reply_failure(error, step=step)) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            client.close()
            raise DeliveryError(_network_failure(error, step=step)) from error
        if not await before_data():
            await self._reset()
            raise ClaimLost()
        return await self._data(raw)

    async def _data(self, raw: bytes) -> str:
        try:
            response = await self._client.data(raw, timeout=self._data_timeout)
        except aiosmtplib.SMTPResponseException as error:
            if error.code > 0:
                # A reply (to DATA, or to the message): the server says it has not taken it.
                await self._reset()
                raise DeliveryError(_reply_failure(error, step="DATA")) from error
            self._client.close()
            raise DeliveryError(Failure(False, DELIVERY_UNCERTAIN, UNCERTAIN_SENTENCE)) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            # Whether the server got the whole message before the connection broke cannot be
            # known: sending it again could deliver it twice.
            self._client.close()
            log.warning("smtp_data_interrupted", error=str(error))
            raise DeliveryError(Failure(False, DELIVERY_UNCERTAIN, UNCERTAIN_SENTENCE)) from error
        return format_reply(response.code, response.message)
