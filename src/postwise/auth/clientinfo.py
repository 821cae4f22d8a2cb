"""Who is calling: the client IP (X-Forwarded-For only from trusted proxies) and user agent."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache

from fastapi import Request

_MAX_USER_AGENT = 512

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ClientInfo:
    ip: str
    user_agent: str


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(peer: str, forwarded_for: str | None, trusted_proxies: tuple[str, ...]) -> str:
    """Walk X-Forwarded-For from the right while the hop is a trusted proxy.

    The left-most entries are whatever the client chose to send; only addresses appended by
    our own proxies can be believed, so the first untrusted hop from the right is the client.
    """
    networks = _networks(trusted_proxies)
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer


def client_info(request: Request, trusted_proxies: list[str]) -> ClientInfo:
    peer = request.client.host if request.client else "unknown"
    ip = client_ip(peer, request.headers.get("x-forwarded-for"), tuple(trusted_proxies))
    return ClientInfo(ip=ip, user_agent=request.headers.get("user-agent", "")[:_MAX_USER_AGENT])
