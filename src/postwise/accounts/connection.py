"""Connecting to a mailbox's servers, with every failure turned into one code a person can act on.

IMAP goes through imapclient, which blocks: `connect_imap` is for worker threads (the sync engine
runs it there too), `check_imap` wraps it for the event loop. SMTP uses aiosmtplib directly.

The codes are part of the API (`auth_failed`, `host_unreachable`, `tls_error`, `timeout`,
`not_imap`, `not_smtp`), so the mapping below is precise on purpose: a wrong password, a wrong
port and an untrusted certificate each need a different fix from the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aiosmtplib
import structlog
from imapclient import IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    LoginError,
)

from postwise.accounts.models import Security

log = structlog.get_logger(__name__)

AUTH_FAILED: Final = "auth_failed"
HOST_UNREACHABLE: Final = "host_unreachable"
TLS_ERROR: Final = "tls_error"
TIMEOUT: Final = "timeout"
NOT_IMAP: Final = "not_imap"
NOT_SMTP: Final = "not_smtp"

# Server text quoted in a detail is cut short: it helps ("[ALERT] use an app password") but a
# hostile server must not fill our responses and logs.
_QUOTE_LIMIT = 160


@dataclass(frozen=True, slots=True)
class ServerEndpoint:
    host: str
    port: int
    security: Security

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ImapLogin:
    endpoint: ServerEndpoint
    username: str
    password: str

    def __repr__(self) -> str:
        # Objects end up in tracebacks and debug logs; the password never may.
        return f"ImapLogin(endpoint={self.endpoint!r}, username={self.username!r}, password=***)"


class ConnectionProblem(Exception):
    """Connecting or signing in failed; `detail` is for people and never holds a secret."""

    def __init__(self, code: str, server: str, detail: str) -> None:
        super().__init__(f"{server} {code}: {detail}")
        self.code = code
        self.server = server
        self.detail = detail


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trust store with full verification, plus the operator's extra CA if set."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def _quote(text: object) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    flat = " ".join(str(text).split())
    # imaplib words its errors as the repr of the server's bytes: b'[ALERT] ...'.
    if len(flat) >= 3 and flat[:2] in ("b'", 'b"') and flat[-1] == flat[1]:
        flat = flat[2:-1]
    return flat if len(flat) <= _QUOTE_LIMIT else flat[: _QUOTE_LIMIT - 1] + "…"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes, deepest first: the root cause names the real trouble."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return reversed(seen)


def _network_problem(
    error: BaseException, *, server: str, endpoint: ServerEndpoint, timeout: float
) -> ConnectionProblem | None:
    """Map a socket-level error (DNS, TCP, TLS, time) to its code; None for anything else."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return ConnectionProblem(
            TLS_ERROR,
            server,
            f"The certificate of {endpoint} is not trusted ({error.verify_message}). If this "
            "is a private server, its CA can be added with POSTWISE_MAIL_CA_FILE.",
        )
    if isinstance(error, ssl.SSLError):
        return ConnectionProblem(
            TLS_ERROR,
            server,
            f"The TLS handshake with {endpoint} failed ({error.reason or 'protocol error'}); "
            "check that the port and the security setting belong together.",
        )
    if isinstance(error, TimeoutError):
        hint = ""
        if endpoint.security is not Security.SSL:
            hint = " If this port expects TLS from the start, choose ssl."
        return ConnectionProblem(
            TIMEOUT, server, f"{endpoint} did not answer within {timeout:g} seconds.{hint}"
        )
    if isinstance(error, socket.gaierror):
        return ConnectionProblem(
            HOST_UNREACHABLE, server, f"The host name {endpoint.host} cannot be resolved."
        )
    if isinstance(error, ConnectionRefusedError):
        return ConnectionProblem(
            HOST_UNREACHABLE, server, f"{endpoint} refused the connection: nothing listens there."
        )
    if isinstance(error, OSError) and not isinstance(error, aiosmtplib.SMTPException):
        reason = error.strerror or type(error).__name__
        return ConnectionProblem(HOST_UNREACHABLE, server, f"Cannot reach {endpoint}: {reason}.")
    return None


def _imap_network_problem(
    error: BaseException, endpoint: ServerEndpoint, *, timeout: float
) -> ConnectionProblem:
    problem = _network_problem(error, server="imap", endpoint=endpoint, timeout=timeout)
    if problem is not None:
        return problem
    return ConnectionProblem(
        NOT_IMAP, "imap", f"{endpoint} broke off the IMAP conversation: {_quote(error)}"
    )


def _open_imap(endpoint: ServerEndpoint, *, timeout: float, context: ssl.SSLContext) -> IMAPClient:
    try:
        return IMAPClient(
            endpoint.host,
            port=endpoint.port,
            ssl=endpoint.security is Security.SSL,
            ssl_context=context,
            timeout=timeout,
        )
    except imaplib.IMAP4.error as error:
        # imaplib refuses any greeting but "* OK" / "* PREAUTH": an HTTP or SMTP server on the
        # port ("unexpected response"), or one that hung up at once ("EOF").
        if "* BYE" in str(error):
            raise ConnectionProblem(
                HOST_UNREACHABLE,
                "imap",
                f"The IMAP server at {endpoint} turned the connection away: {_quote(error)}",
            ) from error
        raise ConnectionProblem(
            NOT_IMAP,
            "imap",
            f"Something answered at {endpoint}, but not an IMAP server ({_quote(error)}); "
            "check the host and the port.",
        ) from error
    except OSError as error:
        raise _imap_network_problem(error, endpoint, timeout=timeout) from error


def _start_tls(client: IMAPClient, endpoint: ServerEndpoint, *, context: ssl.SSLContext) -> None:
    try:
        client.starttls(context)
    except CapabilityError as error:
        raise ConnectionProblem(
            TLS_ERROR,
            "imap",
            f"{endpoint} does not offer STARTTLS; choose ssl (usually port 993) instead.",
        ) from error
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        raise ConnectionProblem(
            TLS_ERROR, "imap", f"{endpoint} refused STARTTLS: {_quote(error)}"
        ) from error


def _login(client: IMAPClient, login: ImapLogin) -> None:
    # A PREAUTH greeting means the server already knows who we are; LOGIN would be illegal.
    if client._imap.state != "NONAUTH":
        return
    if client.has_capability("LOGINDISABLED"):
        raise ConnectionProblem(
            TLS_ERROR,
            "imap",
            f"{login.endpoint} only accepts a password over TLS; choose ssl or starttls.",
        )
    try:
        client.login(login.username, login.password)
    except LoginError as error:
        raise ConnectionProblem(
            AUTH_FAILED,
            "imap",
            f"The IMAP server refused the user name or password ({_quote(error)}).",
        ) from error


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        # Already gone: nothing left to close.
        with contextlib.suppress(Exception):
            client.shutdown()


def connect_imap(login: ImapLogin, *, timeout: float, ssl_context: ssl.SSLContext) -> IMAPClient:
    """Connect (ssl, starttls or none) and sign in; blocking, so call it in a worker thread.

    `timeout` bounds each network step (connect, greeting, each command), not the total.
    Raises ConnectionProblem; the connection is closed on every failure.
    """
    endpoint = login.endpoint
    client = _open_imap(endpoint, timeout=timeout, context=ssl_context)
    try:
        if endpoint.security is Security.STARTTLS:
            _start_tls(client, endpoint, context=ssl_context)
        _login(client, login)
    except ConnectionProblem:
        _close_quietly(client)
        raise
    except (OSError, imaplib.IMAP4.error) as error:
        _close_quietly(client)
        raise _imap_network_problem(error, endpoint, timeout=timeout) from error
    return client


def _capability_names(raw: tuple[bytes | str, ...]) -> list[str]:
    return sorted(item.decode() if isinstance(item, bytes) else item for item in raw)


def _imap_check_blocking(login: ImapLogin, *, timeout: float, context: ssl.SSLContext) -> list[str]:
    client = connect_imap(login, timeout=timeout, ssl_context=context)
    try:
        return _capability_names(client.capabilities())
    except (OSError, imaplib.IMAP4.error) as error:
        raise _imap_network_problem(error, login.endpoint, timeout=timeout) from error
    finally:
        _close_quietly(client)


def _overall_limit(timeout: float) -> float:
    # Connect, greeting, STARTTLS, login and CAPABILITY each get `timeout`; a server that
    # dribbles out answers just inside each one still cannot hold a request forever.
    return timeout * 5


async def check_imap(
    login: ImapLogin,
    *,
    timeout: float,  # noqa: ASYNC109 (a per-step socket timeout, passed to the thread)
    ssl_context: ssl.SSLContext,
) -> list[str]:
    """Sign in as the sync engine would, then log out; returns the server's capabilities."""
    try:
        async with asyncio.timeout(_overall_limit(timeout)):
            return await asyncio.to_thread(
                _imap_check_blocking, login, timeout=timeout, context=ssl_context
            )
    except TimeoutError as error:
        # Only the overall limit lands here: the thread maps its own socket timeouts.
        raise ConnectionProblem(
            TIMEOUT, "imap", f"{login.endpoint} took too long to complete the sign-in."
        ) from error


def _smtp_problem(
    error: aiosmtplib.SMTPException | OSError, endpoint: ServerEndpoint, *, timeout: float
) -> ConnectionProblem:
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return ConnectionProblem(
            AUTH_FAILED,
            "smtp",
            f"The SMTP server refused the user name or password ({error.code} "
            f"{_quote(error.message)}).",
        )
    for cause in _chain(error):
        problem = _network_problem(cause, server="smtp", endpoint=endpoint, timeout=timeout)
        if problem is not None:
            return problem
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return ConnectionProblem(
            TIMEOUT, "smtp", f"{endpoint} did not answer within {timeout:g} seconds."
        )
    if isinstance(error, aiosmtplib.SMTPResponseException) and error.code < 0:
        # aiosmtplib could not read a reply code: an IMAP or HTTP server, not SMTP.
        return ConnectionProblem(
            NOT_SMTP,
            "smtp",
            f"Something answered at {endpoint}, but not an SMTP server; check the port.",
        )
    if isinstance(error, aiosmtplib.SMTPConnectResponseError):
        return ConnectionProblem(
            HOST_UNREACHABLE,
            "smtp",
            f"The SMTP server at {endpoint} turned the connection away ({error.code} "
            f"{_quote(error.message)}).",
        )
    if isinstance(error, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError):
        return ConnectionProblem(
            HOST_UNREACHABLE, "smtp", f"{endpoint} closed the connection: {_quote(error)}"
        )
    return ConnectionProblem(
        NOT_SMTP, "smtp", f"The SMTP server at {endpoint} answered unexpectedly: {_quote(error)}"
    )


async def _smtp_session(
    client: aiosmtplib.SMTP, endpoint: ServerEndpoint, *, username: str, password: str
) -> None:
    await client.connect()
    await client.ehlo()
    if endpoint.security is Security.STARTTLS:
        if not client.supports_extension("starttls"):
            raise ConnectionProblem(
                TLS_ERROR,
                "smtp",
                f"{endpoint} does not offer STARTTLS; choose ssl (usually port 465) instead.",
            )
        await client.starttls()
        await client.ehlo()
    # A relay that accepts mail by address (no AUTH offered) is usable as it is.
    if client.supports_extension("auth"):
        try:
            await client.login(username, password)
        except aiosmtplib.SMTPAuthenticationError:
            raise
        except aiosmtplib.SMTPException as error:
            # Offered AUTH, but none of the mechanisms aiosmtplib speaks.
            raise ConnectionProblem(
                AUTH_FAILED, "smtp", f"Cannot sign in at {endpoint}: {_quote(error)}"
            ) from error


async def check_smtp(
    endpoint: ServerEndpoint,
    username: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109 (aiosmtplib's per-step timeout)
    ssl_context: ssl.SSLContext,
) -> None:
    """Connect, secure the connection as configured and sign in (when AUTH is offered)."""
    client = aiosmtplib.SMTP(
        hostname=endpoint.host,
        port=endpoint.port,
        use_tls=endpoint.security is Security.SSL,
        # False, not None: None lets aiosmtplib upgrade on its own; STARTTLS is done below so
        # that a server without it is reported as such.
        start_tls=False,
        tls_context=ssl_context,
        timeout=timeout,
    )
    try:
        async with asyncio.timeout(_overall_limit(timeout)):
            await _smtp_session(client, endpoint, username=username, password=password)
    # aiosmtplib wraps most socket errors, but not those of a STARTTLS handshake.
    except (aiosmtplib.SMTPException, OSError) as error:
        raise _smtp_problem(error, endpoint, timeout=timeout) from error
    finally:
        await _quit_quietly(client)


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit(timeout=2)
    except (aiosmtplib.SMTPException, OSError):
        client.close()
