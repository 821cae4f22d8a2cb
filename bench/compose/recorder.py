"""The SMTP server the bench sends to: aiosmtpd in a thread, recording per message the instant
its DATA was answered 250, its Message-ID and the connection that carried it.

The test suite's `SmtpServer` keeps whole parsed messages and no clock; the bench needs the
opposite (a timestamp and a connection per message, and nothing heavy in the hot path, since
parsing 500 messages in the server's thread would slow the very replies being timed).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.auth.server import HOST, free_port

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<?([^>\r\n]*)>?", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Received:
    message_id: str
    at: float  # wall clock (time.time()) when the 250 was given
    connection: int  # sequence number of the TCP connection that carried it


@dataclass(frozen=True)
class Connection:
    number: int
    opened_at: float


def message_id(raw: bytes) -> str:
    """The Message-ID without its angle brackets, "" when the message has none. Only the
    header block is searched, so a quoted header in a body cannot be mistaken for it."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace").strip() if found else ""


class _CountingSMTP(SMTP):
    """aiosmtpd's protocol, numbering each TCP connection as it is accepted."""

    def __init__(self, handler: Recorder, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.recorder = handler
        self.connection_number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connection_number = self.recorder.opened()
        super().connection_made(transport)


class _Controller(Controller):
    def factory(self) -> SMTP:
        assert isinstance(self.handler, Recorder)
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


class Recorder:
    """aiosmtpd handler: accepts every message (as a relay on localhost would) and notes it."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = free_port()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._connections: list[Connection] = []
        self.controller = _Controller(self, hostname=self.host, port=self.port)

    def opened(self) -> int:
        with self._lock:
            number = len(self._connections) + 1
            self._connections.append(Connection(number=number, opened_at=time.time()))
            return number

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        number = server.connection_number if isinstance(server, _CountingSMTP) else 0
        raw = envelope.original_content or b""
        received = Received(message_id=message_id(raw), at=time.time(), connection=number)
        with self._lock:
            self._received.append(received)
        return "250 2.0.0 Message accepted for delivery"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    def start(self) -> Recorder:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
