"""The client's address: one trusted-proxy rule for the access log, auth and rate limits.

`ClientAddressMiddleware` (outermost) resolves the address once per request or WebSocket and
writes it into the ASGI scope's `client`, like uvicorn's ProxyHeadersMiddleware does; everything
after it (the access log, `auth.clientinfo`, the rate limiter, any `request.client`) reads the
same answer. Not uvicorn's middleware itself: it also trusts literal host names and parses ports
out of X-Forwarded-For entries, and the walk below is the one Postwise documents and tests
(POSTWISE_TRUSTED_PROXIES, addresses or CIDR networks).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import cache

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Set in the scope once the client address is the resolved one (see auth.clientinfo).
RESOLVED_KEY = "postwise_client_resolved"


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


def _forwarded_for(scope: Scope) -> str | None:
    # Several X-Forwarded-For lines are one list, in order (RFC 9110 field combination).
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
    return ", ".join(values) if values else None


class ClientAddressMiddleware:
    """Replace the peer (a trusted proxy) by the client it forwarded for, once, up front."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[str]) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not scope.get(RESOLVED_KEY):
            peer = scope.get("client")
            if peer and self.trusted:
                host = client_ip(peer[0], _forwarded_for(scope), self.trusted)
                if host != peer[0]:
                    # The client's port is unknown: the proxy's is not the client's.
                    scope["client"] = (host, 0)
            scope[RESOLVED_KEY] = True
        await self.app(scope, receive, send)
