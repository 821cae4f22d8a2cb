"""The wire format of `WS /api/ws`: client messages, server control frames and close codes.

Events themselves are forwarded exactly as `announce` published them (`{"type", "data"}`); this
module only knows the frames the socket adds around them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Final

from starlette.types import Message

# A token is a few hundred bytes and a ping a dozen: anything near this is not our client.
MAX_CLIENT_MESSAGE_CHARS: Final = 16 * 1024
_MAX_TOKEN_CHARS: Final = 4096


class CloseCode(IntEnum):
    """Why the server closed a socket; the close reason carries a short stable `code` string.

    4xxx mirror the HTTP status a request would get; clients reconnect only after the 1xxx ones
    (and after 4401 once they have a fresh token).
    """

    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011  # the event feed broke (Store unreachable): reconnect with backoff
    TRY_AGAIN_LATER = 1013  # the client read too slowly and fell behind: reconnect, re-read
    BAD_MESSAGE = 4400
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    AUTH_TIMEOUT = 4408
    TOO_MANY_MESSAGES = 4429


@dataclass(frozen=True, slots=True)
class Close:
    code: CloseCode
    reason: str


class ProtocolError(Exception):
    def __init__(self, close: Close) -> None:
        super().__init__(close.reason)
        self.close = close


@dataclass(frozen=True, slots=True)
class AuthMessage:
    token: str


@dataclass(frozen=True, slots=True)
class PingMessage:
    pass


ClientMessage = AuthMessage | PingMessage


def _bad(reason: str, code: CloseCode = CloseCode.BAD_MESSAGE) -> ProtocolError:
    return ProtocolError(Close(code, reason))


def parse_client_message(message: Message) -> ClientMessage:
    """Read one ASGI `websocket.receive` message; anything unexpected raises ProtocolError."""
    text = message.get("text")
    if not isinstance(text, str):
        raise _bad("binary_not_supported")
    if len(text) > MAX_CLIENT_MESSAGE_CHARS:
        raise _bad("message_too_big", CloseCode.MESSAGE_TOO_BIG)
    try:
        value = json.loads(text)
    except ValueError:
        raise _bad("malformed_json") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise _bad("bad_message")
    kind = value["type"]
    if kind == "ping":
        return PingMessage()
    if kind == "auth":
        token = value.get("token")
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS:
            raise _bad("bad_message")
        return AuthMessage(token=token)
    raise _bad("unknown_type")


def _frame(kind: str, data: dict[str, object] | None = None) -> str:
    payload: dict[str, object] = {"type": kind}
    if data is not None:
        payload["data"] = data
    return json.dumps(payload, separators=(",", ":"))


HEARTBEAT_FRAME: Final = _frame("heartbeat")
PONG_FRAME: Final = _frame("pong")


def ready_frame(*, user_id: str, expires_at: datetime, heartbeat_seconds: float) -> str:
    return _frame(
        "ready",
        {
            "user_id": user_id,
            "expires_at": expires_at.isoformat(),
            "heartbeat_seconds": heartbeat_seconds,
        },
    )


def auth_ok_frame(*, expires_at: datetime) -> str:
    return _frame("auth.ok", {"expires_at": expires_at.isoformat()})
