"""Mailbox passwords at rest: sealed per purpose, opened across a secret rotation only."""

from __future__ import annotations

import pytest

from postwise.accounts.credentials import DecryptionError, open_password, seal_password
from postwise.kit.crypto import Keyring

OLD = "old-server-secret-" + "a" * 40
NEW = "new-server-secret-" + "b" * 40
PASSWORD = "my mailbox pässword: correct horse"


def test_round_trip_and_no_plaintext() -> None:
    keyring = Keyring(NEW)
    sealed = seal_password(keyring, PASSWORD)
    assert PASSWORD not in sealed
    assert open_password(keyring, sealed) == PASSWORD
    # Fernet tokens carry a fresh IV: the same password never seals to the same text.
    assert seal_password(keyring, PASSWORD) != sealed


def test_sealed_under_the_old_secret_opens_after_rotation() -> None:
    sealed = seal_password(Keyring(OLD), PASSWORD)
    rotated = Keyring(NEW, previous=[OLD])
    assert open_password(rotated, sealed) == PASSWORD
    # Sealing again uses the new secret only, so the old one can be retired afterwards.
    assert open_password(Keyring(NEW), seal_password(rotated, PASSWORD)) == PASSWORD


def test_old_secret_dropped_means_unreadable() -> None:
    sealed = seal_password(Keyring(OLD), PASSWORD)
    with pytest.raises(DecryptionError):
        open_password(Keyring(NEW), sealed)


def test_key_is_only_for_mail_passwords() -> None:
    # The same secret under another purpose (say, TOTP secrets) cannot open it.
    keyring = Keyring(NEW)
    sealed = seal_password(keyring, PASSWORD)
    assert keyring.encrypt(PASSWORD, "totp") != sealed
    with pytest.raises(DecryptionError):
        keyring.decrypt(sealed, "totp")


def test_tampered_token_is_refused() -> None:
    keyring = Keyring(NEW)
    sealed = seal_password(keyring, PASSWORD)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(DecryptionError):
        open_password(keyring, tampered)
