"""connect_imap / check_imap / check_smtp against real servers: one test per error code."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest

from postwise.accounts.connection import (
    ConnectionProblem,
    ImapLogin,
    Route,
    ServerEndpoint,
    check_imap,
    check_smtp,
    connect_imap,
    resolve_route,
    tls_context,
)
from postwise.accounts.models import Security
from postwise.kit.hosts import HostPolicy
from tests.accounts.servers import (
    banner_port,
    closed_port,
    fake_imap,
    silent_port,
    tls_smtp_server,
)
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.smtp import MakeSmtpServer, SmtpServer

TIMEOUT = 5.0
# The servers here listen on loopback; tests/accounts/test_private_hosts.py is about refusing.
LOOPBACK = HostPolicy.parse("127.0.0.0/8, ::1")


@pytest.fixture
def untrusting() -> ssl.SSLContext:
    """The system's trust store only: the Dovecot certificate is self-signed."""
    return tls_context(None)


@pytest.fixture
def trusting(dovecot: Dovecot) -> ssl.SSLContext:
    return tls_context(dovecot.cert_path)


def imap_login(
    mailbox: tuple[str, str], host: str, port: int, security: Security, password: str | None = None
) -> ImapLogin:
    return ImapLogin(ServerEndpoint(host, port, security), mailbox[0], password or mailbox[1])


async def route_to(endpoint: ServerEndpoint, server: str = "imap") -> Route:
    return await resolve_route(endpoint, server=server, policy=LOOPBACK, timeout=TIMEOUT)


async def imap_check(
    login: ImapLogin, context: ssl.SSLContext, seconds: float = TIMEOUT
) -> list[str]:
    """What the service does: resolve and judge the host, then connect to what was judged."""
    route = await route_to(login.endpoint)
    return await check_imap(login, route, timeout=seconds, ssl_context=context)


async def smtp_check(
    endpoint: ServerEndpoint,
    username: str,
    password: str,
    context: ssl.SSLContext,
    seconds: float = TIMEOUT,
) -> None:
    route = await route_to(endpoint, "smtp")
    await check_smtp(route, username, password, timeout=seconds, ssl_context=context)


async def imap_problem(
    login: ImapLogin, context: ssl.SSLContext, seconds: float = TIMEOUT
) -> ConnectionProblem:
    with pytest.raises(ConnectionProblem) as caught:
        await imap_check(login, context, seconds)
    assert caught.value.server == "imap"
    return caught.value


async def smtp_problem(
    endpoint: ServerEndpoint,
    context: ssl.SSLContext,
    *,
    username: str = "someone@example.test",
    password: str = "pw-123456",  # noqa: S107 (a test login)
    seconds: float = TIMEOUT,
) -> ConnectionProblem:
    with pytest.raises(ConnectionProblem) as caught:
        await smtp_check(endpoint, username, password, context, seconds)
    assert caught.value.server == "smtp"
    return caught.value


# --- IMAP ---


async def test_plain_login_returns_capabilities(dovecot: Dovecot, mailbox, untrusting) -> None:
    login = imap_login(mailbox, dovecot.host, dovecot.imap_port, Security.NONE)
    capabilities = await imap_check(login, untrusting)
    assert "IMAP4REV1" in {c.upper() for c in capabilities}


def test_connect_imap_gives_a_signed_in_client(dovecot: Dovecot, mailbox, untrusting) -> None:
    login = imap_login(mailbox, dovecot.host, dovecot.imap_port, Security.NONE)
    client = connect_imap(login, timeout=TIMEOUT, ssl_context=untrusting, policy=LOOPBACK)
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


async def test_wrong_password_is_auth_failed(dovecot: Dovecot, mailbox, untrusting) -> None:
    login = imap_login(mailbox, dovecot.host, dovecot.imap_port, Security.NONE, "wrong-pass-1")
    problem = await imap_problem(login, untrusting)
    assert problem.code == "auth_failed"
    assert "wrong-pass-1" not in problem.detail


async def test_untrusted_certificate_is_tls_error(dovecot: Dovecot, mailbox, untrusting) -> None:
    login = imap_login(mailbox, "localhost", dovecot.imaps_port, Security.SSL)
    problem = await imap_problem(login, untrusting)
    assert problem.code == "tls_error"
    assert "not trusted" in problem.detail


async def test_trusted_ca_file_allows_ssl(dovecot: Dovecot, mailbox, trusting) -> None:
    login = imap_login(mailbox, "localhost", dovecot.imaps_port, Security.SSL)
    assert await imap_check(login, trusting)


async def test_trusted_ca_file_allows_starttls(dovecot: Dovecot, mailbox, trusting) -> None:
    login = imap_login(mailbox, "localhost", dovecot.imap_port, Security.STARTTLS)
    capabilities = await imap_check(login, trusting)
    # After STARTTLS the server no longer offers it: the session really is encrypted.
    assert "STARTTLS" not in {c.upper() for c in capabilities}


async def test_starttls_with_untrusted_certificate_is_tls_error(
    dovecot: Dovecot, mailbox, untrusting
) -> None:
    login = imap_login(mailbox, "localhost", dovecot.imap_port, Security.STARTTLS)
    assert (await imap_problem(login, untrusting)).code == "tls_error"


async def test_certificate_for_another_name_is_tls_error(
    dovecot: Dovecot, mailbox, trusting
) -> None:
    # The certificate names "localhost"; 127.0.0.1 is not on it, trusted CA or not.
    login = imap_login(mailbox, "127.0.0.1", dovecot.imaps_port, Security.SSL)
    assert (await imap_problem(login, trusting)).code == "tls_error"


async def test_ssl_against_the_plain_port_is_tls_error(dovecot: Dovecot, mailbox, trusting) -> None:
    login = imap_login(mailbox, "localhost", dovecot.imap_port, Security.SSL)
    problem = await imap_problem(login, trusting)
    assert problem.code == "tls_error"
    assert "port" in problem.detail


async def test_closed_port_is_host_unreachable(mailbox, untrusting) -> None:
    login = imap_login(mailbox, "127.0.0.1", closed_port(), Security.NONE)
    problem = await imap_problem(login, untrusting)
    assert problem.code == "host_unreachable"
    assert "refused" in problem.detail


async def test_unresolvable_host_is_host_unreachable(mailbox, untrusting) -> None:
    login = imap_login(mailbox, "nonexistent.invalid", 993, Security.SSL)
    problem = await imap_problem(login, untrusting)
    assert problem.code == "host_unreachable"
    assert "nonexistent.invalid" in problem.detail


async def test_silent_server_is_timeout(mailbox, untrusting) -> None:
    with silent_port() as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.NONE)
        started = time.monotonic()
        problem = await imap_problem(login, untrusting, seconds=0.5)
    assert problem.code == "timeout"
    assert time.monotonic() - started < 4


async def test_silent_server_over_ssl_is_timeout(mailbox, untrusting) -> None:
    with silent_port() as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.SSL)
        assert (await imap_problem(login, untrusting, seconds=0.5)).code == "timeout"


async def test_http_server_is_not_imap(mailbox, untrusting) -> None:
    with banner_port(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.NONE)
        problem = await imap_problem(login, untrusting)
    assert problem.code == "not_imap"


async def test_smtp_server_is_not_imap(mailbox, smtp_server: SmtpServer, untrusting) -> None:
    login = imap_login(mailbox, smtp_server.host, smtp_server.port, Security.NONE)
    assert (await imap_problem(login, untrusting)).code == "not_imap"


async def test_bye_greeting_is_host_unreachable(mailbox, untrusting) -> None:
    with banner_port(b"* BYE Too many connections, try later\r\n") as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.NONE)
        problem = await imap_problem(login, untrusting)
    assert problem.code == "host_unreachable"
    # Said in our words: the server's own text is never echoed (test_private_hosts.py).
    assert "turned the connection away" in problem.detail
    assert "Too many connections" not in problem.detail


async def test_starttls_not_offered_is_tls_error(mailbox, untrusting) -> None:
    banner = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"
    with banner_port(banner, fake_imap("IMAP4rev1 AUTH=PLAIN")) as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.STARTTLS)
        problem = await imap_problem(login, untrusting)
    assert problem.code == "tls_error"
    assert "STARTTLS" in problem.detail


async def test_login_disabled_without_tls_is_tls_error(mailbox, untrusting) -> None:
    banner = b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"
    with banner_port(banner, fake_imap("IMAP4rev1 STARTTLS LOGINDISABLED")) as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.NONE)
        assert (await imap_problem(login, untrusting)).code == "tls_error"


def test_a_line_break_in_the_login_never_reaches_the_server(mailbox, untrusting) -> None:
    # The API refuses these (test_untrusted_servers.py); a row stored before that rule must
    # still not inject a command into the LOGIN line.
    lines: list[bytes] = []
    answer = fake_imap("IMAP4rev1")

    def record(line: bytes) -> bytes | None:
        lines.append(line)
        return answer(line)

    banner = b"* OK [CAPABILITY IMAP4rev1] ready\r\n"
    with banner_port(banner, record) as port:
        endpoint = ServerEndpoint("127.0.0.1", port, Security.NONE)
        login = ImapLogin(endpoint, "ada\r\nA2 DELETE INBOX", "pw")
        with pytest.raises(ConnectionProblem) as caught:
            connect_imap(login, timeout=TIMEOUT, ssl_context=untrusting, policy=LOOPBACK)
    assert caught.value.code == "auth_failed"
    assert not [line for line in lines if b"LOGIN" in line.upper() or b"DELETE" in line]


def test_login_repr_hides_the_password() -> None:
    login = ImapLogin(ServerEndpoint("imap.example.test", 993, Security.SSL), "ada", "s3cret-pw")
    assert "s3cret-pw" not in repr(login)
    assert "s3cret-pw" not in str(login)
    assert "ada" in repr(login)


def test_tls_context_verifies_certificates_and_names(dovecot: Dovecot) -> None:
    context = tls_context(dovecot.cert_path)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_tls_context_rejects_a_missing_ca_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        tls_context(tmp_path / "missing.pem")


# --- SMTP ---


def plain(server: SmtpServer) -> ServerEndpoint:
    return ServerEndpoint(server.host, server.port, Security.NONE)


async def test_smtp_without_auth_connects(smtp_server: SmtpServer, untrusting) -> None:
    await smtp_check(plain(smtp_server), "a@example.test", "pw", untrusting)


async def test_smtp_login(make_smtp_server: MakeSmtpServer, untrusting) -> None:
    server = make_smtp_server(users={"ada@example.test": "smtp-pass-1"})
    await smtp_check(plain(server), "ada@example.test", "smtp-pass-1", untrusting)
    assert server.failed_logins == 0


async def test_smtp_wrong_password_is_auth_failed(
    make_smtp_server: MakeSmtpServer, untrusting
) -> None:
    server = make_smtp_server(users={"ada@example.test": "smtp-pass-1"})
    problem = await smtp_problem(
        plain(server), untrusting, username="ada@example.test", password="wrong-smtp-pass"
    )
    assert problem.code == "auth_failed"
    assert "wrong-smtp-pass" not in problem.detail
    assert server.failed_logins >= 1


async def test_smtp_starttls_with_trusted_ca(dovecot: Dovecot, trusting) -> None:
    with tls_smtp_server(dovecot.cert_path, implicit=False, users={"ada": "smtp-pw-9"}) as server:
        endpoint = ServerEndpoint("localhost", server.port, Security.STARTTLS)
        await smtp_check(endpoint, "ada", "smtp-pw-9", trusting)
    assert server.failed_logins == 0


async def test_smtp_starttls_untrusted_is_tls_error(dovecot: Dovecot, untrusting) -> None:
    with tls_smtp_server(dovecot.cert_path, implicit=False) as server:
        endpoint = ServerEndpoint("localhost", server.port, Security.STARTTLS)
        assert (await smtp_problem(endpoint, untrusting)).code == "tls_error"


async def test_smtp_implicit_tls_with_trusted_ca(dovecot: Dovecot, trusting) -> None:
    with tls_smtp_server(dovecot.cert_path, implicit=True, users={"ada": "smtp-pw-9"}) as server:
        endpoint = ServerEndpoint("localhost", server.port, Security.SSL)
        await smtp_check(endpoint, "ada", "smtp-pw-9", trusting)
    assert server.failed_logins == 0


async def test_smtp_ssl_against_plain_port_is_tls_error(smtp_server: SmtpServer, trusting) -> None:
    endpoint = ServerEndpoint(smtp_server.host, smtp_server.port, Security.SSL)
    assert (await smtp_problem(endpoint, trusting)).code == "tls_error"


async def test_smtp_starttls_not_offered_is_tls_error(smtp_server: SmtpServer, trusting) -> None:
    endpoint = ServerEndpoint(smtp_server.host, smtp_server.port, Security.STARTTLS)
    problem = await smtp_problem(endpoint, trusting)
    assert problem.code == "tls_error"
    assert "STARTTLS" in problem.detail


async def test_smtp_closed_port_is_host_unreachable(untrusting) -> None:
    endpoint = ServerEndpoint("127.0.0.1", closed_port(), Security.NONE)
    assert (await smtp_problem(endpoint, untrusting)).code == "host_unreachable"


async def test_smtp_unresolvable_host_is_host_unreachable(untrusting) -> None:
    endpoint = ServerEndpoint("nonexistent.invalid", 587, Security.STARTTLS)
    assert (await smtp_problem(endpoint, untrusting)).code == "host_unreachable"


async def test_smtp_silent_server_is_timeout(untrusting) -> None:
    with silent_port() as port:
        endpoint = ServerEndpoint("127.0.0.1", port, Security.NONE)
        problem = await smtp_problem(endpoint, untrusting, seconds=0.5)
    assert problem.code == "timeout"


async def test_imap_server_on_the_smtp_side_is_not_smtp(dovecot: Dovecot, untrusting) -> None:
    endpoint = ServerEndpoint(dovecot.host, dovecot.imap_port, Security.NONE)
    assert (await smtp_problem(endpoint, untrusting)).code == "not_smtp"


async def test_smtp_refusing_greeting_is_host_unreachable(untrusting) -> None:
    with banner_port(b"554 5.3.2 No service for you\r\n") as port:
        endpoint = ServerEndpoint("127.0.0.1", port, Security.NONE)
        problem = await smtp_problem(endpoint, untrusting)
    assert problem.code == "host_unreachable"
    assert "554" in problem.detail


async def test_checks_run_concurrently_without_blocking_the_loop(
    dovecot: Dovecot, mailbox, untrusting
) -> None:
    # The blocking IMAP client runs in a thread: the event loop keeps ticking meanwhile.
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    with silent_port() as port:
        login = imap_login(mailbox, "127.0.0.1", port, Security.NONE)
        await imap_problem(login, untrusting, seconds=0.5)
    task.cancel()
    assert ticks > 20
