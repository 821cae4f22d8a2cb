"""What a mail server says never comes back through Postwise: the sync engine's errors become
the mailbox's `last_error` (shown by `GET /api/accounts`) and log lines, so they are in our
words, keeping only an RFC 5530 response code, a fixed token."""

from __future__ import annotations

import imaplib
from typing import Any

import pytest
from imapclient.exceptions import IMAPClientError

from postwise.sync.imap import ImapError, ImapSession

SECRET = "SSH-2.0-OpenSSH_9.6 internal-db-01.corp <script>"


class _Client:
    normalise_times = True

    def capabilities(self) -> list[bytes]:
        return [b"IMAP4REV1"]


def _raise(error: BaseException) -> Any:
    def call() -> Any:
        raise error

    return call


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            IMAPClientError(f"select failed: [UNAVAILABLE] {SECRET}"),
            "refused a command [UNAVAILABLE]",
        ),
        (imaplib.IMAP4.error(f"command: FETCH => {SECRET}"), "refused a command"),
        (imaplib.IMAP4.abort(f"socket error: {SECRET}"), "closed the connection"),
        (TimeoutError(SECRET), "did not answer in time"),
        (ConnectionResetError(104, SECRET), "failed (ConnectionResetError)"),
    ],
)
def test_imap_errors_are_worded_without_the_servers_text(error: BaseException, said: str) -> None:
    session = ImapSession(_Client())  # type: ignore[arg-type]
    with pytest.raises(ImapError) as raised:
        session._safe(_raise(error))
    text = str(raised.value)
    assert said in text
    for fragment in ("SSH-2.0", "internal-db-01", "<script>", "OpenSSH"):
        assert fragment not in text
