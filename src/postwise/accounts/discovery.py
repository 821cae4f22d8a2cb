"""Finding a mailbox's servers from its address: the built-in table, DNS SRV, then autoconfig.

1. `providers.PROVIDERS`: the big providers, no network.
2. RFC 6186 SRV records (`_imaps`/`_imap`, `_submissions`/`_submission`), ordered by RFC 2782
   priority and weight; RFC 8314 prefers implicit TLS when priorities tie.
3. Thunderbird-style autoconfig documents at the configured URLs.

A source counts only if it gives both servers: half an answer from one source glued to half of
another's would produce combinations no provider published.

The address is the user's, so everything here is aimed where a user says: a domain that is no
public one (localhost, single labels, .local, .internal, ...) is not looked up at all; every
autoconfig request, and every redirect it follows, goes only to addresses the private-hosts
policy allows (postwise.kit.hosts). The servers found are judged again when connecting.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import httpx
import structlog

from postwise.accounts.connection import ServerEndpoint
from postwise.accounts.models import Security
from postwise.accounts.providers import provider_for
from postwise.config import Settings
from postwise.kit import hosts
from postwise.kit.hosts import HostNotAllowed, HostPolicy

log = structlog.get_logger(__name__)

# An autoconfig document is a few kilobytes; anything far larger is not one.
_MAX_AUTOCONFIG_BYTES = 256 * 1024
# Hops after the first; each one is resolved and judged like the first.
_MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Top-level names that stand for this machine or a site's own network (RFC 6761, 6762, 8375,
# ICANN's .internal, and common private habits): no public server speaks for them.
_LOCAL_TLDS = frozenset(
    {
        "localhost",
        "local",
        "internal",
        "intranet",
        "lan",
        "home",
        "corp",
        "private",
        "localdomain",
        "arpa",
        "invalid",
        "onion",
    }
)
_TLD = re.compile(r"^[a-z][a-z0-9-]*$")
_SOCKET_TYPES = {"SSL": Security.SSL, "STARTTLS": Security.STARTTLS, "PLAIN": Security.NONE}
# Autoconfig entries we can sign in to with a password (OAuth2-only servers are skipped).
_PASSWORD_AUTH = {"password-cleartext", "password-encrypted", "plain", "secure"}


@dataclass(frozen=True, slots=True)
class MailServers:
    imap: ServerEndpoint
    smtp: ServerEndpoint
    # The user name the source asks for (autoconfig's %EMAILLOCALPART%); None: the address.
    username: str | None = None
    source: str = ""
    sign_in_hint: str = ""


class DiscoveryFailed(Exception):
    pass


def email_domain(email: str) -> str:
    """The domain of an address in the ASCII form DNS and URLs need."""
    domain = email.rpartition("@")[2].strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def is_public_domain(domain: str) -> bool:
    """False for IP literals (in any spelling), single labels and local-only names."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) < 2 or not all(labels):
        return False
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        pass
    else:
        return False
    # A numeric or hex last label (127.1, 0x7f.1) is an address to inet_aton, not a name.
    return bool(_TLD.match(labels[-1])) and labels[-1] not in _LOCAL_TLDS


async def discover(email: str, settings: Settings) -> MailServers:
    """The servers for `email`, or DiscoveryFailed when no source knows them."""
    domain = email_domain(email)
    if not is_public_domain(domain):
        log.info("mail_discovery_skipped", domain=domain)
        raise DiscoveryFailed(domain)
    provider = provider_for(domain)
    if provider is not None:
        return MailServers(
            imap=provider.imap,
            smtp=provider.smtp,
            source=f"provider:{provider.name}",
            sign_in_hint=provider.sign_in_hint,
        )
    found = await srv_servers(
        domain, nameservers=settings.dns_nameservers, seconds=settings.discovery_timeout
    )
    if found is None:
        found = await autoconfig_servers(
            email,
            urls=settings.autoconfig_urls,
            seconds=settings.discovery_timeout,
            policy=settings.mail_host_policy,
        )
    if found is None:
        log.info("mail_discovery_failed", domain=domain)
        raise DiscoveryFailed(domain)
    log.info("mail_servers_discovered", domain=domain, source=found.source)
    return found


# --- DNS SRV (RFC 6186, RFC 2782) ---


@dataclass(frozen=True, slots=True)
class SrvCandidate:
    host: str
    port: int
    priority: int
    weight: int
    security: Security


# Implicit TLS first: on equal priority it wins (RFC 8314 section 5.1).
_IMAP_SERVICES = (("_imaps._tcp", Security.SSL), ("_imap._tcp", Security.STARTTLS))
_SUBMISSION_SERVICES = (
    ("_submissions._tcp", Security.SSL),
    ("_submission._tcp", Security.STARTTLS),
)


def _weighted_order(group: list[SrvCandidate], rng: random.Random) -> list[SrvCandidate]:
    """RFC 2782's selection within one priority: zero weights first, then by running sums."""
    remaining = sorted(group, key=lambda candidate: candidate.weight != 0)
    ordered: list[SrvCandidate] = []
    while remaining:
        total = sum(candidate.weight for candidate in remaining)
        point = rng.randint(0, total)
        running = 0
        for index, candidate in enumerate(remaining):
            running += candidate.weight
            if running >= point:
                ordered.append(remaining.pop(index))
                break
    return ordered


def order_candidates(
    candidates: Sequence[SrvCandidate], rng: random.Random | None = None
) -> list[SrvCandidate]:
    """Lowest priority first; implicit TLS before STARTTLS on a tie; weight picks within."""
    rng = rng or random.Random()  # noqa: S311 (load spreading, not security)
    groups: dict[tuple[int, bool], list[SrvCandidate]] = {}
    for candidate in candidates:
        key = (candidate.priority, candidate.security is not Security.SSL)
        groups.setdefault(key, []).append(candidate)
    ordered: list[SrvCandidate] = []
    for key in sorted(groups):
        ordered.extend(_weighted_order(groups[key], rng))
    return ordered


async def _nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    host, port = entry, 53
    if entry.startswith("["):  # [2001:db8::1]:5353
        host, _, rest = entry[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
        host = str(infos[0][4][0])
    return dns.nameserver.Do53Nameserver(host, port)


async def _resolver(nameservers: Sequence[str], seconds: float) -> dns.asyncresolver.Resolver:
    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [await _nameserver(entry) for entry in nameservers]
    else:
        # Reads /etc/resolv.conf: a file, so not in the event loop.
        resolver = await asyncio.to_thread(dns.asyncresolver.Resolver)
    resolver.timeout = seconds
    resolver.lifetime = seconds
    return resolver


async def _srv_records(
    resolver: dns.asyncresolver.Resolver, name: str, *, security: Security
) -> list[SrvCandidate]:
    try:
        answer = await resolver.resolve(name, dns.rdatatype.SRV, raise_on_no_answer=False)
    except dns.exception.DNSException as error:
        log.debug("srv_lookup_failed", name=name, error=type(error).__name__)
        return []
    candidates = []
    for record in answer.rrset or ():
        target = record.target.to_text(omit_final_dot=True).lower()
        # RFC 2782: a target of "." means the service is decidedly not offered here.
        if not target or target == ".":
            continue
        candidates.append(
            SrvCandidate(target, record.port, record.priority, record.weight, security)
        )
    return candidates


async def _best_srv(
    resolver: dns.asyncresolver.Resolver,
    domain: str,
    *,
    services: tuple[tuple[str, Security], ...],
) -> ServerEndpoint | None:
    found = await asyncio.gather(
        *(
            _srv_records(resolver, f"{label}.{domain}.", security=security)
            for label, security in services
        )
    )
    ordered = order_candidates([candidate for records in found for candidate in records])
    if not ordered:
        return None
    best = ordered[0]
    return ServerEndpoint(best.host, best.port, best.security)


async def srv_servers(
    domain: str, *, nameservers: Sequence[str], seconds: float
) -> MailServers | None:
    try:
        resolver = await _resolver(nameservers, seconds)
    except (OSError, ValueError, dns.exception.DNSException) as error:
        log.warning("srv_resolver_unavailable", error=str(error))
        return None
    imap, smtp = await asyncio.gather(
        _best_srv(resolver, domain, services=_IMAP_SERVICES),
        _best_srv(resolver, domain, services=_SUBMISSION_SERVICES),
    )
    if imap is None or smtp is None:
        return None
    return MailServers(imap=imap, smtp=smtp, source="dns-srv")


# --- Thunderbird autoconfig ---


def _fill(template: str, email: str) -> str:
    local, _, domain = email.partition("@")
    return (
        template.replace("%EMAILADDRESS%", email)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


def _server(element: ET.Element, email: str) -> tuple[ServerEndpoint, str | None] | None:
    host = _fill((element.findtext("hostname") or "").strip(), email)
    socket_type = (element.findtext("socketType") or "").strip().upper()
    methods = {(m.text or "").strip().lower() for m in element.findall("authentication")}
    try:
        port = int((element.findtext("port") or "").strip())
    except ValueError:
        return None
    if not host or socket_type not in _SOCKET_TYPES or not 0 < port < 65536:
        return None
    if methods and not methods & (_PASSWORD_AUTH | {"none", "client-ip-address"}):
        return None
    username = (element.findtext("username") or "").strip()
    endpoint = ServerEndpoint(host.lower(), port, _SOCKET_TYPES[socket_type])
    return endpoint, _fill(username, email) if username else None


def _preferred(elements: list[ET.Element], email: str) -> tuple[ServerEndpoint, str | None] | None:
    # The document lists servers in the provider's order of preference; an unencrypted one is
    # taken only when it is all there is.
    servers = [server for element in elements if (server := _server(element, email))]
    secure = [server for server in servers if server[0].security is not Security.NONE]
    if secure:
        return secure[0]
    return servers[0] if servers else None


def parse_autoconfig(document: bytes, email: str) -> MailServers | None:
    """The IMAP and SMTP servers of a clientConfig document, or None if it has not both."""
    # No DTD at all: entity expansion is the one XML attack the standard parser still allows,
    # and a byte search for "<!DOCTYPE" misses it in a UTF-16 (or UTF-32) document.
    try:
        root = SafeET.fromstring(document, forbid_dtd=True)
    except (ET.ParseError, ValueError):
        # defusedxml's refusals (DTDForbidden, EntitiesForbidden, ...) are ValueErrors.
        return None
    if root.tag != "clientConfig":
        return None
    for provider in root.findall("emailProvider"):
        imap = _preferred(provider.findall("incomingServer[@type='imap']"), email)
        smtp = _preferred(provider.findall("outgoingServer[@type='smtp']"), email)
        if imap is not None and smtp is not None:
            return MailServers(imap=imap[0], smtp=smtp[0], username=imap[1], source="autoconfig")
    return None


def _pinned(url: httpx.URL, address: str) -> httpx.Request:
    """A GET for `url` sent to `address`: the Host header and TLS (SNI and the certificate
    check) still name the host, so the one answering is the one the name promised."""
    name = url.raw_host.decode("ascii")
    host_header = f"[{name}]" if ":" in name else name
    if url.port is not None:
        host_header = f"{host_header}:{url.port}"
    return httpx.Request(
        "GET",
        url.copy_with(host=address),
        headers={"Host": host_header},
        extensions={"sni_hostname": name},
    )


async def _send_pinned(
    client: httpx.AsyncClient, url: httpx.URL, *, policy: HostPolicy
) -> httpx.Response | None:
    """The response of the first allowed address that answers; None when none does.

    Raises HostNotAllowed before anything is sent when the host may not be reached."""
    if url.scheme not in ("http", "https") or not url.host:
        return None
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = await hosts.resolve(url.raw_host.decode("ascii"), port, policy)
    except (OSError, UnicodeError):
        return None
    for address in addresses:
        try:
            return await client.send(_pinned(url, address), stream=True)
        except httpx.ConnectError:
            continue
    return None


async def _read_capped(response: httpx.Response) -> bytes | None:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > _MAX_AUTOCONFIG_BYTES:
            return None
    return bytes(body)


async def _fetch(
    client: httpx.AsyncClient, url: str, *, seconds: float, policy: HostPolicy
) -> bytes | None:
    """GET `url`, following up to _MAX_REDIRECTS redirects by hand: each hop's host is resolved
    and judged before anything is sent to it."""
    target = httpx.URL(url)
    try:
        # httpx's timeout bounds each read; this bounds the whole download, redirects included.
        async with asyncio.timeout(seconds):
            for step in range(_MAX_REDIRECTS + 1):
                try:
                    response = await _send_pinned(client, target, policy=policy)
                except HostNotAllowed:
                    # A redirect's host is the remote server's words: logged as a fact only.
                    log.warning("autoconfig_host_not_allowed", url=url, redirect=step > 0)
                    return None
                if response is None:
                    return None
                try:
                    location = response.headers.get("Location")
                    if response.status_code in _REDIRECTS and location:
                        # Relative to the URL as named, never to the address it went to.
                        following = target.join(location)
                        if target.scheme == "https" and following.scheme != "https":
                            return None  # a downgrade would let anyone on the path answer
                        target = following
                        continue
                    if response.status_code != 200:
                        return None
                    return await _read_capped(response)
                finally:
                    await response.aclose()
            log.debug("autoconfig_too_many_redirects", url=url)
            return None
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError) as error:
        log.debug("autoconfig_fetch_failed", url=url, error=type(error).__name__)
        return None


async def autoconfig_servers(
    email: str, *, urls: Sequence[str], seconds: float, policy: HostPolicy
) -> MailServers | None:
    """Ask every configured URL at once; the first in the configured order that answers wins."""
    domain = email_domain(email)
    targets = [
        template.replace("{domain}", domain).replace("{email}", quote(email, safe=""))
        for template in urls
    ]
    if not targets:
        return None
    # No environment proxies: a proxy would connect by name, around the address checks.
    async with httpx.AsyncClient(
        timeout=seconds, follow_redirects=False, trust_env=False
    ) as client:
        documents = await asyncio.gather(
            *(_fetch(client, url, seconds=seconds, policy=policy) for url in targets)
        )
    for document in documents:
        if document is None:
            continue
        found = parse_autoconfig(document, email)
        if found is not None:
            return found
    return None
