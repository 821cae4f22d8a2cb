"""Runs last in the auth suite: no password, token or TOTP secret it handled was logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.auth.conftest import SEEN_SECRETS

pytestmark = pytest.mark.backend


def test_no_secret_reached_a_log_line(auth_log_file: Path) -> None:
    assert auth_log_file.exists(), "the auth suite wrote no log file"
    logs = "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in auth_log_file.parent.glob(f"{auth_log_file.name}*")
    )
    assert len(logs) > 10_000  # the suite really logged: requests, events, mails
    assert len(SEEN_SECRETS) > 50  # and really handled secrets
    leaked = sorted(secret for secret in SEEN_SECRETS if secret in logs)
    assert leaked == []
