"""Who a mailbox sends as: the sender name, the extra addresses it may send from (send-as
aliases the server accepts as From), and the signature the composer inserts."""

from __future__ import annotations

import json
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount
from postwise.compose.access import field_error, owned_account, send_as_of
from postwise.compose.schemas import Identity, IdentityOut, SendAs
from postwise.mime.sanitize import sanitize_html


def identity_out(account: MailAccount) -> IdentityOut:
    return IdentityOut(
        account_id=account.id,
        email=account.email,
        sender_name=account.sender_name,
        send_as=[
            SendAs.model_construct(name=item["name"], address=item["address"])
            for item in send_as_of(account)
        ],
        signature_text=account.signature_text,
        signature_html=account.signature_html,
    )


async def get_identity(db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID) -> IdentityOut:
    return identity_out(await owned_account(db, user_id, account_id))


def _send_as(account: MailAccount, body: Identity) -> list[dict[str, str]]:
    """The aliases, each once (the first spelling of a name kept); the mailbox's own address
    is refused: it is always there, and listing it twice would confuse every picker."""
    own = account.email.lower()
    kept: dict[str, dict[str, str]] = {}
    for index, item in enumerate(body.send_as):
        address = item.address.lower()
        if address == own:
            raise field_error(
                422,
                "send_as_is_own_address",
                f"send_as[{index}].address",
                "The mailbox's own address is always a sender; list only other ones.",
            )
        kept.setdefault(address, {"name": item.name, "address": address})
    return list(kept.values())


async def put_identity(
    db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID, body: Identity
) -> IdentityOut:
    account = await owned_account(db, user_id, account_id)
    account.sender_name = body.sender_name.strip()
    account.send_as = json.dumps(_send_as(account, body))
    account.signature_text = body.signature_text
    # Shown in the composer and sent in mail: no script, no tracking, like any HTML we keep.
    account.signature_html = (
        sanitize_html(body.signature_html, allow_remote_images=True).html
        if body.signature_html.strip()
        else ""
    )
    await db.flush()
    return identity_out(account)
