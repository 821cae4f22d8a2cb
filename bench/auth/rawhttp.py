"""A minimal HTTP/1.1 keep-alive client for the login flood.

Written here rather than using httpx because the load generator shares the two cores with the
server it measures: httpx spends about 1.4 ms of CPU per request (header models, URL parsing,
its connection pool), which the server then does not get. This client sends pre-encoded
requests and reads only the status line and Content-Length, about a tenth of that. It speaks
just what the flood needs (fixed-length JSON bodies, no chunking, no redirects); the /me probe
keeps using httpx, whose CPU does not matter at 20 requests a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class RawHttpError(Exception):
    """The server closed the connection or answered something this client cannot read."""


class RawConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, base_url: str) -> RawConnection:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise RawHttpError(f"only plain http:// URLs are supported, not {base_url}")
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one complete request; return the status code and the body."""
        self._writer.write(raw)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = _content_length(head)
            body = await self._reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ValueError) as error:
            raise RawHttpError(f"unreadable response: {error}") from error
        return status, body

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


def _content_length(head: bytes) -> int:
    lowered = head.lower()
    start = lowered.find(b"\r\ncontent-length:")
    if start < 0:
        if b"transfer-encoding: chunked" in lowered:
            raise ValueError("chunked responses are not supported")
        return 0
    start += len(b"\r\ncontent-length:")
    return int(lowered[start : lowered.index(b"\r\n", start)])


def post_json(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of a keep-alive POST with a JSON body."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
