"""Mailbox passwords at rest: Fernet tokens under a key derived from the server secret.

The key is derived for this purpose only (HKDF in `Keyring`), so a key leaking from another use
cannot open them; `secret_key_previous` keeps them readable while the secret is rotated.
"""

from __future__ import annotations

from postwise.kit.crypto import DecryptionError, Keyring

PURPOSE = "mail-account-password"

__all__ = ["PURPOSE", "DecryptionError", "open_password", "seal_password"]


def seal_password(keyring: Keyring, password: str) -> str:
    """Always under the current secret: re-sealing is how a rotation retires the old one."""
    return keyring.encrypt(password, PURPOSE)


def open_password(keyring: Keyring, sealed: str) -> str:
    """The password; raises DecryptionError when no known secret (current or previous) fits."""
    return keyring.decrypt(sealed, PURPOSE)
