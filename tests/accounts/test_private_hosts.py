"""POSTWISE_MAIL_PRIVATE_HOSTS, the policy itself: which addresses are private (in every
spelling), how the setting reads, and that connections go to the address that was checked.

The API and the sync engine are in test_private_hosts_api.py.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import httpx
import pytest

from postwise.accounts.connection import (
    ConnectionProblem,
    ImapLogin,
    ServerEndpoint,
    check_smtp,
    connect_imap,
    resolve_route,
    tls_context,
)
from postwise.accounts.discovery import _fetch, autoconfig_servers
from postwise.accounts.models import Security
from postwise.config import Settings
from postwise.kit.hosts import HostNotAllowed, HostPolicy, is_private_address, resolve_blocking
from tests.accounts.servers import HttpServer, Recorder, server_tls_context
from tests.conftest import TEST_SECRET
from tests.fixtures.dovecot import Dovecot

DENY = HostPolicy.parse("deny")
IMAP_GREETING = b"* OK [CAPABILITY IMAP4rev1] ready\r\n"


# --- which addresses are private ---


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT (RFC 6598)
        "169.254.169.254",  # link-local: cloud metadata services
        "0.0.0.0",
        "224.0.0.1",  # multicast: Python counts it as global
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.10",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",  # site-local (deprecated): Python counts it as global
        "ff02::1",
        "ff0e::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2001:db8::1",
    ],
)
def test_private_addresses(address: str) -> None:
    assert is_private_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses(address: str) -> None:
    assert not is_private_address(ipaddress.ip_address(address))


# Every spelling of loopback a user could type, and the resolver would take: getaddrinfo
# accepts inet_aton's decimal, octal, hex and short forms, so the check must run on what it
# returns, not on the text.
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "0x7f000001",
    "017700000001",
    "127.1",
    "0",
    "0.0.0.0",
    "localhost",
    "LOCALHOST.",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_is_refused(host: str) -> None:
    with pytest.raises(HostNotAllowed):
        resolve_blocking(host, 143, DENY)


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "127.1", "127.0.0.1"])
def test_a_listed_network_allows_its_addresses_in_any_spelling(host: str) -> None:
    assert resolve_blocking(host, 143, HostPolicy.parse("127.0.0.1/32")) == ("127.0.0.1",)


def test_a_listed_network_allows_nothing_else() -> None:
    policy = HostPolicy.parse("127.0.0.1/32, 10.0.0.0/8")
    with pytest.raises(HostNotAllowed):
        resolve_blocking("127.0.0.2", 143, policy)
    with pytest.raises(HostNotAllowed):
        resolve_blocking("::ffff:192.168.0.1", 143, policy)
    assert resolve_blocking("::ffff:10.9.8.7", 143, policy) == ("::ffff:10.9.8.7",)


def test_a_listed_name_allows_what_it_resolves_to() -> None:
    policy = HostPolicy.parse("localhost, *.corp.example")
    assert "127.0.0.1" in resolve_blocking("localhost", 143, policy)
    # The name, not the address: the literal stays refused.
    with pytest.raises(HostNotAllowed):
        resolve_blocking("127.0.0.1", 143, policy)
    assert policy.allows_name("mail.corp.example")
    assert not policy.allows_name("corp.example.evil.test")


def test_public_addresses_pass_a_deny_policy() -> None:
    assert resolve_blocking("8.8.8.8", 993, DENY) == ("8.8.8.8",)


@pytest.mark.parametrize(
    "value", ["", "allow, 10.0.0.0/8", "deny,localhost", "10.0.0.0/33", "not a host!", "a b"]
)
def test_bad_policies_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"allow, deny|host name|network"):
        HostPolicy.parse(value)


# --- the setting ---


def settings_for(tmp_path: Path, **values: object) -> Settings:
    return Settings(secret_key=TEST_SECRET, data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_default_is_deny_outside_dev_and_allow_in_dev(tmp_path: Path) -> None:
    assert settings_for(tmp_path, env="production").effective_mail_private_hosts == "deny"
    assert settings_for(tmp_path, env="test").effective_mail_private_hosts == "deny"
    assert not settings_for(tmp_path, env="production").mail_host_policy.allow_all
    assert settings_for(tmp_path, env="dev").mail_host_policy.allow_all


def test_the_setting_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTWISE_MAIL_PRIVATE_HOSTS", "10.0.0.0/8, mail.corp.example")
    policy = settings_for(tmp_path, env="production").mail_host_policy
    assert policy.allows(ipaddress.ip_address("10.2.3.4"))
    assert not policy.allows(ipaddress.ip_address("192.168.0.1"))
    assert policy.allows_name("mail.corp.example")


def test_a_bad_setting_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mail_private_hosts"):
        settings_for(tmp_path, env="production", mail_private_hosts="10.0.0.0/33")


# --- connections: refused before a packet is sent, and pinned to the checked address ---


def test_connect_imap_refuses_before_connecting() -> None:
    with Recorder(banner=IMAP_GREETING) as recorder:
        login = ImapLogin(ServerEndpoint("127.0.0.1", recorder.port, Security.NONE), "a", "b")
        with pytest.raises(ConnectionProblem) as caught:
            connect_imap(login, timeout=2, ssl_context=tls_context(None), policy=DENY)
    assert caught.value.code == "host_not_allowed"
    assert recorder.accepted == 0


async def test_resolve_route_refuses_an_smtp_host() -> None:
    endpoint = ServerEndpoint("2130706433", 25, Security.NONE)
    with pytest.raises(ConnectionProblem) as caught:
        await resolve_route(endpoint, server="smtp", policy=DENY, timeout=2)
    assert (caught.value.code, caught.value.server) == ("host_not_allowed", "smtp")


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`rebind.example` answers 127.0.0.1 the first time and 127.0.0.2 after: DNS rebinding.

    Monkeypatched because no resolver we can point the system at runs here; every lookup
    (the event loop's getaddrinfo goes through socket.getaddrinfo too) is recorded."""
    answers: list[str] = []
    real = socket.getaddrinfo

    def fake(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host == "rebind.example":
            address = "127.0.0.1" if not answers else "127.0.0.2"
            answers.append(address)
            return real(address, port, *args, **kwargs)  # type: ignore[arg-type]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


def _twin_recorders() -> tuple[Recorder, Recorder]:
    """The same port on 127.0.0.1 (allowed) and 127.0.0.2 (not)."""
    for _ in range(20):
        allowed = Recorder("127.0.0.1", banner=IMAP_GREETING)
        try:
            return allowed, Recorder("127.0.0.2", allowed.port, banner=IMAP_GREETING)
        except OSError:
            allowed.__exit__()
    raise AssertionError("no port free on both 127.0.0.1 and 127.0.0.2")


def test_imap_connects_to_the_address_that_was_checked(rebinding: list[str]) -> None:
    allowed, other = _twin_recorders()
    policy = HostPolicy.parse("127.0.0.1")
    with allowed, other:
        login = ImapLogin(ServerEndpoint("rebind.example", allowed.port, Security.NONE), "a", "b")
        with pytest.raises(ConnectionProblem):
            # The recorders greet and hang up: the sign-in fails, after connecting.
            connect_imap(login, timeout=2, ssl_context=tls_context(None), policy=policy)
    assert rebinding == ["127.0.0.1"]  # one lookup, no second one to rebind
    assert (allowed.accepted, other.accepted) == (1, 0)


async def test_smtp_connects_to_the_address_that_was_checked(rebinding: list[str]) -> None:
    allowed, other = _twin_recorders()
    with allowed, other:
        endpoint = ServerEndpoint("rebind.example", allowed.port, Security.NONE)
        route = await resolve_route(
            endpoint, server="smtp", policy=HostPolicy.parse("127.0.0.1"), timeout=2
        )
        with pytest.raises(ConnectionProblem):
            await check_smtp(route, "a", "b", timeout=2, ssl_context=tls_context(None))
    assert rebinding == ["127.0.0.1"]
    assert (allowed.accepted, other.accepted) == (1, 0)


CONFIG = b"""<clientConfig version="1.1"><emailProvider id="example.test">
  <incomingServer type="imap"><hostname>imap.example.test</hostname><port>993</port>
    <socketType>SSL</socketType></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>465</port>
    <socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>"""


def _twin_http_servers(document: bytes) -> tuple[HttpServer, HttpServer]:
    for _ in range(20):
        allowed = HttpServer({"/example.test": (200, document)})
        try:
            other = HttpServer(
                {"/example.test": (200, document)}, host="127.0.0.2", port=allowed.port
            )
        except OSError:
            allowed._server.server_close()
            continue
        return allowed, other
    raise AssertionError("no port free on both 127.0.0.1 and 127.0.0.2")


async def test_autoconfig_fetches_from_the_address_that_was_checked(rebinding: list[str]) -> None:
    allowed, other = _twin_http_servers(CONFIG)
    with allowed, other:
        found = await autoconfig_servers(
            "ada@example.test",
            urls=[f"http://rebind.example:{allowed.port}/{{domain}}"],
            seconds=2,
            policy=HostPolicy.parse("127.0.0.1"),
        )
    assert found is not None
    assert rebinding == ["127.0.0.1"]
    assert (allowed.requests, other.requests) == (["/example.test"], [])
    assert allowed.hosts == [f"rebind.example:{allowed.port}"]


async def test_an_https_autoconfig_never_redirects_to_http(dovecot: Dovecot) -> None:
    # Over plain HTTP anyone on the path could answer with servers of their choosing.
    with HttpServer({"/config.xml": (200, CONFIG)}) as plain:
        redirects = {"/example.test": f"http://localhost:{plain.port}/config.xml"}
        tls = server_tls_context(dovecot.cert_path)
        with HttpServer({}, redirects=redirects, tls=tls) as secure:
            verify = tls_context(dovecot.cert_path)
            async with httpx.AsyncClient(verify=verify, follow_redirects=False) as client:
                document = await _fetch(
                    client,
                    f"https://localhost:{secure.port}/example.test",
                    seconds=2,
                    policy=HostPolicy.parse("127.0.0.1"),
                )
    assert document is None
    assert secure.requests == ["/example.test"]  # TLS to the name "localhost" worked
    assert plain.requests == []
