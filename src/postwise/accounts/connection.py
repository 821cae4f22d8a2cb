"""Connecting to a mailbox's servers, with every failure turned into one code a person can act on.

IMAP goes through imapclient, which blocks: `connect_imap` is for worker threads (the sync engine
runs it there too), `check_imap` wraps it for the event loop. SMTP uses aiosmtplib directly.

Every connection first resolves the host and judges each address against the private-hosts
policy (postwise.kit.hosts), then connects to one of those addresses, never to the name again;
TLS still names the host (SNI) and checks the certificate against it.

The codes are part of the API (`auth_failed`, `host_unreachable`, `host_not_allowed`,
`tls_error`, `timeout`, `not_imap`, `not_smtp`), so the mapping below is precise on purpose: a
wrong password, a wrong port and an untrusted certificate each need a different fix.

A detail never quotes what the server sent: the "server" may be any service a user pointed us
at (an SSH daemon, an internal HTTP API), and echoing its bytes would turn the connection test
into a way of reading them. Details say in words what was expected instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import imaplib
import re
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
from postwise.kit import hosts
from postwise.kit.hosts import HostNotAllowed, HostPolicy

log = structlog.get_logger(__name__)

AUTH_FAILED: Final = "auth_failed"
HOST_UNREACHABLE: Final = "host_unreachable"
HOST_NOT_ALLOWED: Final = "host_not_allowed"
TLS_ERROR: Final = "tls_error"
TIMEOUT: Final = "timeout"
NOT_IMAP: Final = "not_imap"
NOT_SMTP: Final = "not_smtp"

# RFC 5530 response codes of a refused LOGIN, told in our words: a recognised code is the one
# piece of the server's answer that reaches the user, and only as this fixed text.
_LOGIN_CODES: dict[str, str] = {
    "AUTHENTICATIONFAILED": "the user name or password is wrong",
    "AUTHORIZATIONFAILED": "this user may not open this mailbox",
    "EXPIRED": "the password has expired",
    "PRIVACYREQUIRED": "the server accepts passwords only over an encrypted connection",
    "CONTACTADMIN": "the server asks you to contact its administrator",
    "UNAVAILABLE": "the server cannot check passwords right now; try again later",
    "LIMIT": "the account has hit a limit of the server (too many connections?)",
}
_RESPONSE_CODE = re.compile(r"\[([A-Z-]+)")
# IMAP sends the user name and password inside a command line: a CR or LF would end the
# command and start another, a NUL is refused by servers.
_LINE_BREAKERS = frozenset("\r\n\0")


@dataclass(frozen=True, slots=True)
class ServerEndpoint:
    host: str
    port: int
    security: Security

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Route:
    """An endpoint and the addresses it resolved to, every one allowed by the policy: the
    connection goes to these, so a second DNS answer cannot redirect it."""

    endpoint: ServerEndpoint
    addresses: tuple[str, ...]


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


@functools.lru_cache(maxsize=8)
def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trust store with full verification, plus the operator's extra CA if set.

    One per process and CA file: loading the trust store costs about 20 ms of CPU, which
    bench.compose saw as a quarter of a worker's time when every delivery and every Sent copy
    built its own. A context is only read once built, so connections can share it. (A CA file
    replaced on disk is read again after a restart.)"""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def _not_allowed(endpoint: ServerEndpoint, server: str) -> ConnectionProblem:
    return ConnectionProblem(
        HOST_NOT_ALLOWED,
        server,
        f"{endpoint.host} is, or resolves to, a private, loopback or reserved address, and "
        "this server does not connect to those on a user's behalf. An administrator can allow "
        "it with POSTWISE_MAIL_PRIVATE_HOSTS.",
    )


def _unresolvable(endpoint: ServerEndpoint, server: str) -> ConnectionProblem:
    return ConnectionProblem(
        HOST_UNREACHABLE, server, f"The host name {endpoint.host} cannot be resolved."
    )


def resolve_route_blocking(endpoint: ServerEndpoint, *, server: str, policy: HostPolicy) -> Route:
    """Resolve and judge `endpoint` in this thread; ConnectionProblem when it may not be used."""
    try:
        return Route(endpoint, hosts.resolve_blocking(endpoint.host, endpoint.port, policy))
    except HostNotAllowed as error:
        raise _not_allowed(endpoint, server) from error
    except (socket.gaierror, UnicodeError) as error:
        raise _unresolvable(endpoint, server) from error


async def resolve_route(
    endpoint: ServerEndpoint,
    *,
    server: str,
    policy: HostPolicy,
    timeout: float,  # noqa: ASYNC109 (the resolver runs in a thread; this bounds the wait)
) -> Route:
    """`resolve_route_blocking` for the event loop: no packet reaches a refused host."""
    try:
        async with asyncio.timeout(timeout):
            addresses = await hosts.resolve(endpoint.host, endpoint.port, policy)
    except HostNotAllowed as error:
        raise _not_allowed(endpoint, server) from error
    except (socket.gaierror, UnicodeError) as error:
        raise _unresolvable(endpoint, server) from error
    except TimeoutError as error:
        raise ConnectionProblem(
            TIMEOUT, server, f"The host name {endpoint.host} could not be resolved in time."
        ) from error
    return Route(endpoint, addresses)


def _login_refusal(error: BaseException) -> str:
    for code in _RESPONSE_CODE.findall(str(error)):
        if code in _LOGIN_CODES:
            return f" ({_LOGIN_CODES[code]})"
    return ""


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
        return _unresolvable(endpoint, server)
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
        NOT_IMAP,
        "imap",
        f"The server at {endpoint} broke off the IMAP conversation with an answer an IMAP "
        "server would not give; check the host and the port.",
    )


class _PinnedIMAP4(imaplib.IMAP4):
    """imaplib connected to checked addresses only. `self.host` stays the name: implicit TLS
    here and imaplib's STARTTLS send it (SNI) and check the certificate against it."""

    def __init__(self, route: Route, *, tls: ssl.SSLContext | None, timeout: float | None) -> None:
        self._addresses = route.addresses
        self._tls = tls
        super().__init__(route.endpoint.host, route.endpoint.port, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = hosts.connect_blocking(self._addresses, self.port, timeout=timeout)
        if self._tls is None:
            return sock
        try:
            return self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class _PinnedIMAPClient(IMAPClient):  # type: ignore[misc]  # imapclient is untyped
    def __init__(self, route: Route, *, ssl_context: ssl.SSLContext, timeout: float) -> None:
        # Set before IMAPClient.__init__, which connects through _create_IMAP4.
        self._route = route
        self._context = ssl_context
        super().__init__(
            route.endpoint.host,
            port=route.endpoint.port,
            ssl=route.endpoint.security is Security.SSL,
            ssl_context=ssl_context,
            timeout=timeout,
        )

    def _create_IMAP4(self) -> imaplib.IMAP4:  # imapclient's hook, hence the name
        tls = self._context if self._route.endpoint.security is Security.SSL else None
        connect_timeout = getattr(self._timeout, "connect", None)
        return _PinnedIMAP4(self._route, tls=tls, timeout=connect_timeout)


def _open_imap(route: Route, *, timeout: float, context: ssl.SSLContext) -> IMAPClient:
    endpoint = route.endpoint
    try:
        return _PinnedIMAPClient(route, ssl_context=context, timeout=timeout)
    except imaplib.IMAP4.error as error:
        # imaplib refuses any greeting but "* OK" / "* PREAUTH": an HTTP or SMTP server on the
        # port ("unexpected response"), or one that hung up at once ("EOF").
        if "* BYE" in str(error):
            raise ConnectionProblem(
                HOST_UNREACHABLE,
                "imap",
                f"The IMAP server at {endpoint} turned the connection away at once (it said "
                "BYE); it may be busy, or refuse connections from this server.",
            ) from error
        raise ConnectionProblem(
            NOT_IMAP,
            "imap",
            f"The server at {endpoint} did not greet as an IMAP server; check the host and "
            "the port.",
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
            TLS_ERROR, "imap", f"{endpoint} offers STARTTLS but refused to start it."
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
    if _LINE_BREAKERS & set(login.username + login.password):
        # The API refuses these; a row from before that rule must not inject a command.
        raise ConnectionProblem(
            AUTH_FAILED, "imap", "The user name or password holds a line break or NUL."
        )
    try:
        client.login(login.username, login.password)
    except LoginError as error:
        raise ConnectionProblem(
            AUTH_FAILED,
            "imap",
            f"The IMAP server refused the user name or password{_login_refusal(error)}.",
        ) from error


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        # Already gone: nothing left to close.
        with contextlib.suppress(Exception):
            client.shutdown()


def connect_imap(
    login: ImapLogin, *, timeout: float, ssl_context: ssl.SSLContext, policy: HostPolicy
) -> IMAPClient:
    """Resolve the host, judge it by `policy`, connect and sign in (the sync engine's way in).

    Blocking, so call it in a worker thread. Raises ConnectionProblem."""
    route = resolve_route_blocking(login.endpoint, server="imap", policy=policy)
    return connect_imap_route(login, route, timeout=timeout, ssl_context=ssl_context)


def connect_imap_route(
    login: ImapLogin, route: Route, *, timeout: float, ssl_context: ssl.SSLContext
) -> IMAPClient:
    """Connect to `route`'s checked addresses (ssl, starttls or none) and sign in; blocking.

    `timeout` bounds each network step (connect, greeting, each command), not the total.
    Raises ConnectionProblem; the connection is closed on every failure.
    """
    endpoint = login.endpoint
    assert route.endpoint == endpoint, "a route is for the endpoint it was resolved for"
    client = _open_imap(route, timeout=timeout, context=ssl_context)
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


def _imap_check_blocking(
    login: ImapLogin, route: Route, *, timeout: float, context: ssl.SSLContext
) -> list[str]:
    client = connect_imap_route(login, route, timeout=timeout, ssl_context=context)
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
    route: Route,
    *,
    timeout: float,  # noqa: ASYNC109 (a per-step socket timeout, passed to the thread)
    ssl_context: ssl.SSLContext,
) -> list[str]:
    """Sign in as the sync engine would, then log out; returns the server's capabilities.

    Connects only to `route`'s addresses (see `resolve_route`)."""
    try:
        async with asyncio.timeout(_overall_limit(timeout)):
            return await asyncio.to_thread(
                _imap_check_blocking, login, route, timeout=timeout, context=ssl_context
            )
    except TimeoutError as error:
        # Only the overall limit lands here: the thread maps its own socket timeouts.
        raise ConnectionProblem(
            TIMEOUT, "imap", f"{login.endpoint} took too long to complete the sign-in."
        ) from error


def _smtp_problem(
    error: aiosmtplib.SMTPException | OSError, endpoint: ServerEndpoint, *, timeout: float
) -> ConnectionProblem:
    # Reply codes are numbers aiosmtplib parsed: safe to show. Reply texts are not shown.
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return ConnectionProblem(
            AUTH_FAILED,
            "smtp",
            f"The SMTP server refused the user name or password (reply code {error.code}).",
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
            f"The server at {endpoint} did not greet as an SMTP server; check the port.",
        )
    if isinstance(error, aiosmtplib.SMTPConnectResponseError):
        return ConnectionProblem(
            HOST_UNREACHABLE,
            "smtp",
            f"The SMTP server at {endpoint} turned the connection away (reply code "
            f"{error.code}); it may be busy, or refuse connections from this server.",
        )
    if isinstance(error, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError):
        return ConnectionProblem(
            HOST_UNREACHABLE, "smtp", f"{endpoint} closed the connection before signing in."
        )
    return ConnectionProblem(
        NOT_SMTP,
        "smtp",
        f"The SMTP server at {endpoint} did not answer as an SMTP server would while signing in.",
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
                AUTH_FAILED,
                "smtp",
                f"Cannot sign in at {endpoint}: it offers no sign-in method this server speaks.",
            ) from error


async def open_smtp(
    route: Route,
    username: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109 (aiosmtplib's per-step timeout)
    ssl_context: ssl.SSLContext,
) -> aiosmtplib.SMTP:
    """Connect to `route`'s checked addresses, secure the connection as configured and sign
    in (when AUTH is offered); the session is handed over open (close it with `close_smtp`).

    Raises ConnectionProblem (its `__cause__` is aiosmtplib's error, which carries the reply
    code); the connection is closed on every failure. Sending mail uses this too
    (postwise.compose.delivery), so a mailbox sends exactly as its connection test signs in."""
    endpoint = route.endpoint
    sock: socket.socket | None = None
    client: aiosmtplib.SMTP | None = None
    try:
        async with asyncio.timeout(_overall_limit(timeout)):
            sock = await hosts.connect(route.addresses, endpoint.port, timeout=timeout)
            client = aiosmtplib.SMTP(
                # The name, not the address: TLS sends it (SNI) and checks the certificate
                # against it, on connect (ssl) and on STARTTLS alike.
                hostname=endpoint.host,
                sock=sock,
                use_tls=endpoint.security is Security.SSL,
                # False, not None: None lets aiosmtplib upgrade on its own; STARTTLS is done
                # below so that a server without it is reported as such.
                start_tls=False,
                tls_context=ssl_context,
                timeout=timeout,
            )
            await _smtp_session(client, endpoint, username=username, password=password)
    # aiosmtplib wraps most socket errors, but not those of a STARTTLS handshake.
    except (aiosmtplib.SMTPException, OSError) as error:
        await _discard_smtp(client, sock)
        raise _smtp_problem(error, endpoint, timeout=timeout) from error
    except BaseException:
        await _discard_smtp(client, sock)
        raise
    return client


async def _discard_smtp(client: aiosmtplib.SMTP | None, sock: socket.socket | None) -> None:
    if client is not None:
        await close_smtp(client)
    elif sock is not None:
        # Not handed over yet. Once aiosmtplib has it, its transport closes it (after a TLS
        # close_notify, so later than close() returns): closing it here as well would free its
        # number under a live transport.
        sock.close()


async def close_smtp(client: aiosmtplib.SMTP) -> None:
    """QUIT (briefly) and close; never raises."""
    await _quit_quietly(client)
    client.close()


async def check_smtp(
    route: Route,
    username: str,
    password: str,
    *,
    timeout: float,  # noqa: ASYNC109 (aiosmtplib's per-step timeout)
    ssl_context: ssl.SSLContext,
) -> None:
    """Connect to `route`'s checked addresses, secure the connection as configured and sign
    in (when AUTH is offered)."""
    client = await open_smtp(route, username, password, timeout=timeout, ssl_context=ssl_context)
    await close_smtp(client)


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit(timeout=2)
    except (aiosmtplib.SMTPException, OSError):
        client.close()
