"""Keys derived from the one secret, one per purpose, and the token helpers built on them.

Deriving a key per purpose (HKDF) means a key that leaks from one use (say, JWT signing) cannot
forge anything else. Old secrets stay usable for verification and decryption so the secret can
be rotated without signing everyone out or losing encrypted data (see docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@cache
def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=b"postwise", info=purpose.encode()
    ).derive(secret.encode())


def random_token(nbytes: int = 32) -> str:
    """URL-safe random string carrying `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


class DecryptionError(Exception):
    pass


class Keyring:
    """The current secret first, then any previous ones still accepted during a rotation."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        self.secrets = (current, *previous)

    def key(self, purpose: str) -> bytes:
        return derive_key(self.secrets[0], purpose)

    def keys(self, purpose: str) -> list[bytes]:
        return [derive_key(secret, purpose) for secret in self.secrets]

    def token_hash(self, token: str, purpose: str) -> str:
        """Keyed hash for storing tokens: a database leak alone cannot confirm a guess."""
        return hmac.new(self.key(purpose), token.encode(), hashlib.sha256).hexdigest()

    def token_hashes(self, token: str, purpose: str) -> list[str]:
        return [hmac.new(k, token.encode(), hashlib.sha256).hexdigest() for k in self.keys(purpose)]

    def _fernet(self, purpose: str) -> MultiFernet:
        return MultiFernet(
            [Fernet(base64.urlsafe_b64encode(k)) for k in self.keys(f"fernet:{purpose}")]
        )

    def encrypt(self, plaintext: str, purpose: str) -> str:
        return self._fernet(purpose).encrypt(plaintext.encode()).decode()

    def reseal(self, ciphertext: str, purpose: str) -> str | None:
        """The same plaintext sealed under the current secret, or None when it already is.

        Raises DecryptionError when no known secret opens it."""
        current = Fernet(base64.urlsafe_b64encode(self.key(f"fernet:{purpose}")))
        try:
            current.decrypt(ciphertext.encode())
        except InvalidToken:
            pass
        else:
            return None
        try:
            return self._fernet(purpose).rotate(ciphertext.encode()).decode()
        except InvalidToken as error:
            raise DecryptionError(f"cannot decrypt {purpose} with any known secret") from error

    def decrypt(self, ciphertext: str, purpose: str) -> str:
        try:
            return self._fernet(purpose).decrypt(ciphertext.encode()).decode()
        except InvalidToken as error:
            raise DecryptionError(f"cannot decrypt {purpose} with any known secret") from error
