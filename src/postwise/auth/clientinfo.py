"""Who is calling: the client IP (X-Forwarded-For only from trusted proxies) and user agent."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

# The walk lives with the middleware that applies it to every request (one rule everywhere);
# re-exported here for the callers that resolve an address by hand.
from postwise.observability.clientaddr import RESOLVED_KEY, client_ip

__all__ = ["ClientInfo", "client_info", "client_ip"]

_MAX_USER_AGENT = 512


@dataclass(frozen=True)
class ClientInfo:
    ip: str
    user_agent: str


def client_info(request: Request, trusted_proxies: list[str]) -> ClientInfo:
    peer = request.client.host if request.client else "unknown"
    if request.scope.get(RESOLVED_KEY):
        # The app's ClientAddressMiddleware already applied the trusted-proxy walk: walking
        # again could step past the client when it is itself inside a trusted network.
        ip = peer
    else:
        ip = client_ip(peer, request.headers.get("x-forwarded-for"), tuple(trusted_proxies))
    return ClientInfo(ip=ip, user_agent=request.headers.get("user-agent", "")[:_MAX_USER_AGENT])
