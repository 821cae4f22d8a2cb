"""Finding servers: the built-in table, SRV records from a real (local) DNS server, autoconfig
documents from a real (local) HTTP server."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from postwise.accounts.connection import ServerEndpoint
from postwise.accounts.discovery import (
    DiscoveryFailed,
    SrvCandidate,
    autoconfig_servers,
    discover,
    email_domain,
    order_candidates,
    parse_autoconfig,
    srv_servers,
)
from postwise.accounts.models import Security
from postwise.accounts.providers import PROVIDERS, provider_for
from postwise.kit.hosts import HostPolicy
from tests.accounts.servers import DnsServer, HttpServer, closed_port

SSL, STARTTLS, NONE = Security.SSL, Security.STARTTLS, Security.NONE
# The HTTP servers here listen on loopback; test_private_hosts.py is about refusing.
LOOPBACK = HostPolicy.parse("127.0.0.1")


# --- the built-in table ---


@pytest.mark.parametrize(
    ("domain", "imap", "smtp"),
    [
        ("gmail.com", ("imap.gmail.com", 993, SSL), ("smtp.gmail.com", 465, SSL)),
        ("googlemail.com", ("imap.gmail.com", 993, SSL), ("smtp.gmail.com", 465, SSL)),
        (
            "outlook.com",
            ("outlook.office365.com", 993, SSL),
            ("smtp-mail.outlook.com", 587, STARTTLS),
        ),
        (
            "hotmail.com",
            ("outlook.office365.com", 993, SSL),
            ("smtp-mail.outlook.com", 587, STARTTLS),
        ),
        ("live.com", ("outlook.office365.com", 993, SSL), ("smtp-mail.outlook.com", 587, STARTTLS)),
        (
            "contoso.onmicrosoft.com",
            ("outlook.office365.com", 993, SSL),
            ("smtp.office365.com", 587, STARTTLS),
        ),
        ("yahoo.com", ("imap.mail.yahoo.com", 993, SSL), ("smtp.mail.yahoo.com", 465, SSL)),
        ("icloud.com", ("imap.mail.me.com", 993, SSL), ("smtp.mail.me.com", 587, STARTTLS)),
        ("me.com", ("imap.mail.me.com", 993, SSL), ("smtp.mail.me.com", 587, STARTTLS)),
        ("mac.com", ("imap.mail.me.com", 993, SSL), ("smtp.mail.me.com", 587, STARTTLS)),
        ("fastmail.com", ("imap.fastmail.com", 993, SSL), ("smtp.fastmail.com", 465, SSL)),
        ("gmx.net", ("imap.gmx.net", 993, SSL), ("mail.gmx.net", 587, STARTTLS)),
        ("gmx.de", ("imap.gmx.net", 993, SSL), ("mail.gmx.net", 587, STARTTLS)),
        ("gmx.com", ("imap.gmx.com", 993, SSL), ("mail.gmx.com", 587, STARTTLS)),
        ("zoho.com", ("imap.zoho.com", 993, SSL), ("smtp.zoho.com", 465, SSL)),
        ("zohomail.com", ("imap.zoho.com", 993, SSL), ("smtp.zoho.com", 465, SSL)),
        ("GMail.COM", ("imap.gmail.com", 993, SSL), ("smtp.gmail.com", 465, SSL)),
    ],
)
def test_provider_table(domain: str, imap: tuple, smtp: tuple) -> None:
    provider = provider_for(domain)
    assert provider is not None
    assert provider.imap == ServerEndpoint(*imap)
    assert provider.smtp == ServerEndpoint(*smtp)


def test_unknown_domains_are_not_in_the_table() -> None:
    assert provider_for("example.test") is None
    # A suffix match needs the dot: "notonmicrosoft.com" is someone else's domain.
    assert provider_for("notonmicrosoft.com") is None
    assert provider_for("gmail.com.evil.test") is None


def test_every_provider_uses_tls() -> None:
    for provider in PROVIDERS:
        assert provider.imap.security is not NONE, provider.name
        assert provider.smtp.security is not NONE, provider.name


@pytest.mark.backend
async def test_table_answers_without_the_network(make_settings) -> None:
    # Nothing listens where DNS and autoconfig would be asked: only the table can answer.
    settings = make_settings(
        dns_nameservers=[f"127.0.0.1:{closed_port()}"],
        autoconfig_urls=[f"http://127.0.0.1:{closed_port()}/{{domain}}"],
    )
    started = time.monotonic()
    found = await discover("Someone@GoogleMail.com", settings)
    assert found.imap.host == "imap.gmail.com"
    assert found.source == "provider:Gmail"
    assert "app password" in found.sign_in_hint
    # Far under the 5 s discovery timeout: nothing was waited for (room for a loaded machine).
    assert time.monotonic() - started < 2


def test_email_domain_is_ascii() -> None:
    assert email_domain("ada@Example.TEST") == "example.test"
    assert email_domain("ada@bücher.example") == "xn--bcher-kva.example"


# --- SRV ---


def srv(records: dict[str, list[tuple[int, int, int, str]]], domain: str = "example.test"):
    return {f"{label}.{domain}.": entries for label, entries in records.items()}


async def test_srv_prefers_implicit_tls_on_equal_priority() -> None:
    records = srv(
        {
            "_imaps._tcp": [(10, 0, 993, "imap.example.test.")],
            "_imap._tcp": [(10, 0, 143, "imap.example.test.")],
            "_submissions._tcp": [(10, 0, 465, "smtp.example.test.")],
            "_submission._tcp": [(10, 0, 587, "smtp.example.test.")],
        }
    )
    with DnsServer(records) as dns_server:
        found = await srv_servers("example.test", nameservers=[dns_server.address], seconds=2)
    assert found is not None
    assert found.imap == ServerEndpoint("imap.example.test", 993, SSL)
    assert found.smtp == ServerEndpoint("smtp.example.test", 465, SSL)
    assert found.source == "dns-srv"
    assert set(dns_server.queries) == set(records)


async def test_srv_priority_is_compared_across_services() -> None:
    records = srv(
        {
            "_imaps._tcp": [(20, 0, 993, "backup.example.test.")],
            "_imap._tcp": [(5, 0, 143, "mail.example.test.")],
            "_submission._tcp": [(0, 0, 587, "mail.example.test.")],
        }
    )
    with DnsServer(records) as dns_server:
        found = await srv_servers("example.test", nameservers=[dns_server.address], seconds=2)
    assert found is not None
    assert found.imap == ServerEndpoint("mail.example.test", 143, STARTTLS)
    assert found.smtp == ServerEndpoint("mail.example.test", 587, STARTTLS)


async def test_srv_dot_target_means_not_offered() -> None:
    records = srv(
        {
            "_imaps._tcp": [(0, 0, 0, ".")],
            "_imap._tcp": [(10, 0, 143, "mail.example.test.")],
            "_submissions._tcp": [(0, 0, 0, ".")],
            "_submission._tcp": [(10, 0, 587, "mail.example.test.")],
        }
    )
    with DnsServer(records) as dns_server:
        found = await srv_servers("example.test", nameservers=[dns_server.address], seconds=2)
    assert found is not None
    assert found.imap == ServerEndpoint("mail.example.test", 143, STARTTLS)
    assert found.smtp.port == 587


async def test_srv_without_submission_gives_nothing() -> None:
    records = srv({"_imaps._tcp": [(0, 0, 993, "mail.example.test.")]})
    with DnsServer(records) as dns_server:
        found = await srv_servers("example.test", nameservers=[dns_server.address], seconds=2)
    assert found is None


async def test_srv_with_nothing_listening_gives_nothing() -> None:
    found = await srv_servers("example.test", nameservers=[f"127.0.0.1:{closed_port()}"], seconds=1)
    assert found is None


def candidate(host: str, *, priority: int = 0, weight: int = 0, security=SSL) -> SrvCandidate:
    return SrvCandidate(host, 993, priority, weight, security)


def test_srv_weights_share_the_load_in_proportion() -> None:
    rng = random.Random(1234)
    heavy, light = candidate("heavy", weight=30), candidate("light", weight=10)
    firsts = Counter(order_candidates([light, heavy], rng)[0].host for _ in range(4000))
    share = firsts["heavy"] / 4000
    # RFC 2782: chosen with probability weight / total (30/40 here), give or take chance.
    assert 0.70 < share < 0.80


def test_srv_zero_weight_is_rarely_first() -> None:
    rng = random.Random(99)
    firsts = Counter(
        order_candidates([candidate("zero"), candidate("some", weight=50)], rng)[0].host
        for _ in range(2000)
    )
    assert firsts["zero"] < 100  # about 1 in 51


def test_srv_lower_priority_always_wins_whatever_the_weight() -> None:
    rng = random.Random(7)
    for _ in range(200):
        ordered = order_candidates(
            [candidate("b", priority=20, weight=1000), candidate("a", priority=10)], rng
        )
        assert [c.host for c in ordered] == ["a", "b"]


# --- autoconfig ---

CONFIG = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>143</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


def test_parse_autoconfig_fills_placeholders() -> None:
    found = parse_autoconfig(CONFIG, "ada@example.test")
    assert found is not None
    assert found.imap == ServerEndpoint("imap.example.test", 143, STARTTLS)
    assert found.smtp == ServerEndpoint("smtp.example.test", 465, SSL)
    assert found.username == "ada"


def test_parse_autoconfig_prefers_encrypted_servers() -> None:
    document = b"""<clientConfig><emailProvider id="x">
      <incomingServer type="imap"><hostname>plain.x</hostname><port>143</port>
        <socketType>plain</socketType></incomingServer>
      <incomingServer type="imap"><hostname>tls.x</hostname><port>993</port>
        <socketType>SSL</socketType></incomingServer>
      <outgoingServer type="smtp"><hostname>smtp.x</hostname><port>25</port>
        <socketType>plain</socketType></outgoingServer>
    </emailProvider></clientConfig>"""
    found = parse_autoconfig(document, "ada@x")
    assert found is not None
    assert found.imap == ServerEndpoint("tls.x", 993, SSL)
    # Plain only when it is all there is; and no <username> leaves the default (the address).
    assert found.smtp == ServerEndpoint("smtp.x", 25, NONE)
    assert found.username is None


def test_parse_autoconfig_skips_oauth_only_servers() -> None:
    document = b"""<clientConfig><emailProvider id="x">
      <incomingServer type="imap"><hostname>oauth.x</hostname><port>993</port>
        <socketType>SSL</socketType><authentication>OAuth2</authentication></incomingServer>
      <outgoingServer type="smtp"><hostname>smtp.x</hostname><port>465</port>
        <socketType>SSL</socketType></outgoingServer>
    </emailProvider></clientConfig>"""
    assert parse_autoconfig(document, "ada@x") is None


@pytest.mark.parametrize(
    "document",
    [
        b"not xml at all",
        b"<html><body>Welcome</body></html>",
        b"<clientConfig><emailProvider id='x'></emailProvider></clientConfig>",
        # Entity expansion ("billion laughs") is refused before parsing.
        b'<?xml version="1.0"?><!DOCTYPE clientConfig [<!ENTITY a "aaaa">]>'
        b"<clientConfig>&a;</clientConfig>",
        b"""<clientConfig><emailProvider id="x">
          <incomingServer type="imap"><hostname>imap.x</hostname><port>99999</port>
            <socketType>SSL</socketType></incomingServer>
          <outgoingServer type="smtp"><hostname>smtp.x</hostname><port>465</port>
            <socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>""",
    ],
)
def test_parse_autoconfig_rejects_junk(document: bytes) -> None:
    assert parse_autoconfig(document, "ada@x") is None


async def test_autoconfig_over_http_takes_the_first_answering_url() -> None:
    documents = {
        "/example.test/config.xml": (200, CONFIG),
        "/broken/example.test": (200, b"<clientConfig/>"),
    }
    with HttpServer(documents) as http:
        urls = [
            http.url("/missing/{domain}"),
            http.url("/broken/{domain}"),
            http.url("/{domain}/config.xml?address={email}"),
        ]
        found = await autoconfig_servers("ada@example.test", urls=urls, seconds=2, policy=LOOPBACK)
    assert found is not None
    assert found.source == "autoconfig"
    assert found.imap.host == "imap.example.test"
    # Every URL was asked (in parallel), the address URL-encoded.
    assert "/example.test/config.xml?address=ada%40example.test" in http.requests
    assert len(http.requests) == 3


async def test_autoconfig_refuses_huge_documents() -> None:
    huge = CONFIG.replace(b"<domain>", b"<!--" + b"x" * 400_000 + b"--><domain>")
    with HttpServer({"/c": (200, huge)}) as http:
        assert (
            await autoconfig_servers(
                "ada@example.test", urls=[http.url("/c")], seconds=2, policy=LOOPBACK
            )
            is None
        )


# --- the whole chain ---


@pytest.mark.backend
async def test_discover_falls_back_from_srv_to_autoconfig(make_settings) -> None:
    with DnsServer({}) as dns_server, HttpServer({"/example.test": (200, CONFIG)}) as http:
        settings = make_settings(
            dns_nameservers=[dns_server.address], autoconfig_urls=[http.url("/{domain}")]
        )
        found = await discover("ada@example.test", settings)
        assert found.source == "autoconfig"
        assert len(dns_server.queries) == 4  # SRV was asked first, and answered NXDOMAIN


@pytest.mark.backend
async def test_discover_prefers_srv_over_autoconfig(make_settings) -> None:
    records = srv(
        {
            "_imaps._tcp": [(0, 0, 993, "srv-imap.example.test.")],
            "_submissions._tcp": [(0, 0, 465, "srv-smtp.example.test.")],
        }
    )
    with DnsServer(records) as dns_server, HttpServer({"/example.test": (200, CONFIG)}) as http:
        settings = make_settings(
            dns_nameservers=[dns_server.address], autoconfig_urls=[http.url("/{domain}")]
        )
        found = await discover("ada@example.test", settings)
        assert found.imap.host == "srv-imap.example.test"
        assert http.requests == []


@pytest.mark.backend
async def test_discover_fails_when_nothing_knows(make_settings) -> None:
    with DnsServer({}) as dns_server, HttpServer({}) as http:
        settings = make_settings(
            dns_nameservers=[dns_server.address], autoconfig_urls=[http.url("/{domain}")]
        )
        with pytest.raises(DiscoveryFailed):
            await discover("ada@example.test", settings)
        assert http.requests == ["/example.test"]
