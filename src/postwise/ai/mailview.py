"""One message as every task sees it: a plain, pure value (no rows, no sessions), built from a
stored message (`ai.pipeline`) or from raw RFC 822 text (`postwise eval`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from postwise.mime.parse import ParsedMessage


@dataclass(frozen=True, slots=True)
class MailView:
    subject: str
    from_name: str
    from_address: str
    text: str  # the whole plain-text body, quotes and signature included
    to: tuple[str, ...] = ()  # addresses, lower case
    cc: tuple[str, ...] = ()
    sent_at: datetime | None = None
    # Where quoted text and the signature start in `text` (None: not found).
    quote_offset: int | None = None
    signature_offset: int | None = None
    list_id: str | None = None
    list_unsubscribe: str | None = None
    precedence: str | None = None  # the Precedence header, lower case (bulk, list, junk)
    auto_submitted: str | None = None  # the Auto-Submitted header, lower case
    has_calendar: bool = False  # a text/calendar part or an .ics attachment
    has_attachments: bool = False
    # The user's own addresses (mailbox and send-as), lower case: "to me" vs "cc me".
    user_addresses: frozenset[str] = field(default_factory=frozenset)

    @property
    def body(self) -> str:
        """What this message itself says: the text before its quote and its signature."""
        cut = [o for o in (self.quote_offset, self.signature_offset) if o is not None]
        return self.text[: min(cut)] if cut else self.text

    @property
    def from_user(self) -> bool:
        return self.from_address.lower() in self.user_addresses


def view_of_parsed(
    parsed: ParsedMessage, *, user_addresses: frozenset[str] = frozenset()
) -> MailView:
    return MailView(
        subject=parsed.subject,
        from_name=parsed.from_.name if parsed.from_ else "",
        from_address=(parsed.from_.address if parsed.from_ else "").lower(),
        text=parsed.text,
        to=tuple(a.address.lower() for a in parsed.to),
        cc=tuple(a.address.lower() for a in parsed.cc),
        sent_at=parsed.sent_at,
        quote_offset=parsed.quote_offset,
        signature_offset=parsed.signature_offset,
        list_id=parsed.list_id,
        list_unsubscribe=parsed.list_unsubscribe,
        precedence=parsed.precedence,
        auto_submitted=parsed.auto_submitted,
        has_calendar=parsed.has_calendar,
        has_attachments=any(not a.is_inline for a in parsed.attachments),
        user_addresses=user_addresses,
    )
