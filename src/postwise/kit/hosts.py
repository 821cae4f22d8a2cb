"""Which network addresses an outgoing connection made on a user's behalf may reach.

Connecting a mailbox makes this server open connections wherever a signed-in user says. Without
a policy that is a port scanner and a request forger aimed at the machine's own network
(127.0.0.1, the database, the metadata service at 169.254.169.254). So a name is resolved once,
every address it resolves to is judged, and the connection then goes to one of those judged
addresses: a second lookup could answer differently (DNS rebinding).

The policy is a string (POSTWISE_MAIL_PRIVATE_HOSTS): `allow`, `deny`, or a comma-separated list
of host names (`mail.corp.example`, `*.corp.example`) and networks (`10.0.0.0/8`, `fd00::/8`,
`192.168.1.5`) whose private addresses may be reached. Public addresses are always allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW = "allow"
DENY = "deny"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated, but a kernel may route it
_NAME = re.compile(r"^(\*\.)?[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?$")


class HostNotAllowed(Exception):
    """`host` is, or resolves to, a private address that the policy does not allow."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} is not an allowed address")
        self.host = host


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, compatible): the packets
    end up there, so that is the address to judge."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_private_address(address: IPAddress) -> bool:
    """True for everything that is not a public unicast address: loopback, RFC 1918, CGNAT
    (100.64/10), link-local, unique-local, multicast, unspecified, reserved, documentation."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_private_address(embedded)
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return True
    # is_global alone is not enough: Python counts multicast (224/4, ff0e::/16) as global.
    return not address.is_global or address.is_multicast or address.is_reserved


def _plain_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Public addresses always; private ones when `allow_all`, or listed, or the name is."""

    allow_all: bool
    networks: tuple[IPNetwork, ...] = ()
    names: frozenset[str] = frozenset()
    # "*.corp.example" is stored as ".corp.example".
    suffixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> HostPolicy:
        """`allow`, `deny` or a list of hosts and networks; ValueError names a bad entry."""
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        lowered = [entry.lower() for entry in entries]
        if lowered in ([ALLOW], [DENY]):
            return cls(allow_all=lowered == [ALLOW])
        if not entries or ALLOW in lowered or DENY in lowered:
            raise ValueError("use allow, deny, or a comma-separated list of hosts and networks")
        networks: list[IPNetwork] = []
        names: set[str] = set()
        suffixes: list[str] = []
        for entry in entries:
            plain = _plain_host(entry)
            try:
                networks.append(ipaddress.ip_network(plain, strict=False))
                continue
            except ValueError:
                pass
            if not _NAME.match(plain):
                raise ValueError(f"{entry!r} is neither a host name nor an IP network")
            if plain.startswith("*."):
                suffixes.append(plain[1:])
            else:
                names.add(plain)
        return cls(
            allow_all=False,
            networks=tuple(networks),
            names=frozenset(names),
            suffixes=tuple(suffixes),
        )

    def allows_name(self, host: str) -> bool:
        """True when the operator listed this name: whatever it resolves to may be reached."""
        plain = _plain_host(host)
        return plain in self.names or any(plain.endswith(suffix) for suffix in self.suffixes)

    def allows(self, address: IPAddress, *, host: str = "") -> bool:
        if self.allow_all or not is_private_address(address):
            return True
        if host and self.allows_name(host):
            return True
        embedded = _embedded_ipv4(address)
        return any(
            candidate in network
            for network in self.networks
            for candidate in (address, embedded)
            if candidate is not None and candidate.version == network.version
        )


@functools.lru_cache(maxsize=16)
def host_policy(value: str) -> HostPolicy:
    """The parsed policy; cached, since settings hold it as text and it is asked per connection."""
    return HostPolicy.parse(value)


def _address(text: str) -> IPAddress:
    # getaddrinfo writes link-local IPv6 with its zone ("fe80::1%eth0"); ipaddress keeps it.
    return ipaddress.ip_address(text)


def _judged(host: str, infos: Sequence[tuple[object, ...]], policy: HostPolicy) -> tuple[str, ...]:
    found: list[str] = []
    for info in infos:
        sockaddr = info[4]
        assert isinstance(sockaddr, tuple)
        text = str(sockaddr[0])
        if text not in found:
            found.append(text)
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    # Every address must pass, not just the one we would use: a name answering a public and
    # a private address lets whoever controls its DNS pick the one we connect to.
    if not all(policy.allows(_address(text), host=host) for text in found):
        raise HostNotAllowed(host)
    return tuple(found)


def resolve_blocking(host: str, port: int, policy: HostPolicy) -> tuple[str, ...]:
    """The addresses of `host` (IP literals in any inet_aton spelling included), all allowed.

    Raises HostNotAllowed, or socket.gaierror when the name does not resolve."""
    infos = socket.getaddrinfo(_plain_host(host), port, type=socket.SOCK_STREAM)
    return _judged(host, infos, policy)


async def resolve(host: str, port: int, policy: HostPolicy) -> tuple[str, ...]:
    """`resolve_blocking` without blocking the event loop."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(_plain_host(host), port, type=socket.SOCK_STREAM)
    return _judged(host, infos, policy)


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def connect_blocking(
    addresses: Sequence[str], port: int, *, timeout: float | None
) -> socket.socket:
    """A TCP connection to the first of `addresses` that answers (each gets `timeout`)."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        sock = socket.socket(_family(address), socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect((address, port))
        except OSError as failure:
            sock.close()
            error = failure
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


async def connect(
    addresses: Sequence[str],
    port: int,
    *,
    timeout: float,  # noqa: ASYNC109 (per address, like socket.create_connection's)
) -> socket.socket:
    """`connect_blocking` on the event loop; the socket comes back non-blocking."""
    loop = asyncio.get_running_loop()
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        sock = socket.socket(_family(address), socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(timeout):
                await loop.sock_connect(sock, (address, port))
        except OSError as failure:  # TimeoutError included
            sock.close()
            error = failure
            continue
        except BaseException:
            with contextlib.suppress(OSError):
                sock.close()
            raise
        return sock
    raise error
