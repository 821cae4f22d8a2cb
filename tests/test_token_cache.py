"""The codec's memory of verified access tokens: it saves the work, never a check."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from postwise.auth import tokens
from postwise.auth.tokens import InvalidTokenError, TokenCodec
from postwise.kit.crypto import Keyring
from tests.conftest import TEST_SECRET


def _codec() -> TokenCodec:
    return TokenCodec(Keyring(TEST_SECRET))


def test_a_remembered_token_still_expires() -> None:
    codec = _codec()
    token, _ = codec.encode(
        "access", user_id=uuid.uuid4(), session_id=uuid.uuid4(), ttl=timedelta(seconds=1)
    )
    first = codec.decode("access", token)
    assert codec.decode("access", token) is first  # remembered, not verified again
    time.sleep(max(0.0, first.expires_at.timestamp() - time.time()) + 0.05)
    with pytest.raises(InvalidTokenError, match="ExpiredSignatureError"):
        codec.decode("access", token)


def test_only_verified_tokens_are_remembered_and_each_for_its_type() -> None:
    codec = _codec()
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    token, _ = codec.encode("access", user_id=user_id, session_id=session_id, ttl=timedelta(1))
    codec.decode("access", token)
    # The same text as an MFA token is still refused: the type is part of what is remembered.
    with pytest.raises(InvalidTokenError):
        codec.decode("mfa", token)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            codec.decode("access", tampered)
    # Another instance (another secret) knows nothing of what this one verified.
    with pytest.raises(InvalidTokenError):
        TokenCodec(Keyring("another-" + TEST_SECRET)).decode("access", token)


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_VERIFIED_CAPACITY", 3)
    codec = _codec()
    issued = [
        codec.encode("access", user_id=uuid.uuid4(), session_id=uuid.uuid4(), ttl=timedelta(1))
        for _ in range(5)
    ]
    for token, claims in issued:
        assert codec.decode("access", token).user_id == claims.user_id
    assert len(codec._verified) == 3
    # The oldest went first; a forgotten token is simply verified again.
    assert ("access", issued[0][0]) not in codec._verified
    assert codec.decode("access", issued[0][0]).user_id == issued[0][1].user_id
