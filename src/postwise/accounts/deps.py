"""Load a mailbox for the signed-in user, or answer 404: the one way routes get an account."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import select

from postwise.accounts.models import MailAccount
from postwise.auth.deps import SignedIn
from postwise.deps import SessionDep
from postwise.kit.errors import ProblemError


def account_not_found() -> ProblemError:
    # The same answer for "not yours" and "no such id": nothing tells them apart.
    return ProblemError(404, "not_found", "No such mail account.")


async def get_owned_account(
    user: SignedIn,
    db: SessionDep,
    account_id: Annotated[str, Path(description="The mail account's id (a UUID).")],
) -> MailAccount:
    # Taken as text so a malformed id is a 404 like any unknown one, not a 422.
    try:
        wanted = uuid.UUID(account_id)
    except ValueError:
        raise account_not_found() from None
    account = await db.scalar(
        select(MailAccount).where(MailAccount.id == wanted, MailAccount.user_id == user.id)
    )
    if account is None:
        raise account_not_found()
    return account


OwnedAccount = Annotated[MailAccount, Depends(get_owned_account)]
