"""What each notification says, in words a user understands (no codes, no jargon)."""

from __future__ import annotations

import uuid

from postwise.notifications.models import NotificationKind
from postwise.notifications.schemas import NewNotification

MAILBOXES_PAGE = "/settings/mailboxes/"
SECURITY_PAGE = "/settings/security/"

# Per connection code (postwise.accounts.connection, and the sync engine's own codes): what
# broke and what to do. `{host}` is the mailbox's IMAP server.
_MAILBOX_PROBLEMS: dict[str, str] = {
    "auth_failed": "The mail server refused the password. If you changed it, enter the new "
    "one in Settings → Mailboxes.",
    "host_unreachable": "Couldn't reach {host}. Postwise keeps trying; if the server moved, "
    "check its name in Settings → Mailboxes.",
    "timeout": "{host} stopped answering. Postwise keeps trying to reconnect.",
    "tls_error": "The secure connection to {host} failed. Check the port and the security "
    "setting in Settings → Mailboxes.",
    "host_not_allowed": "This Postwise server may not connect to {host}. Ask whoever runs "
    "Postwise to allow it.",
    "not_imap": "{host} did not answer like a mail server. Check the server name and port in "
    "Settings → Mailboxes.",
    "internal_error": "Syncing stopped on an unexpected problem. Postwise keeps retrying; if "
    "it lasts, tell whoever runs Postwise.",
}
_CONNECTION_LOST = "The connection to {host} broke. Postwise keeps trying to reconnect."

# Not the mailbox's fault and nothing the user can fix: the state shows on the mailbox page,
# but the bell stays quiet.
QUIET_MAILBOX_CODES = frozenset({"database_unavailable"})


def mailbox_dedupe_key(account_id: uuid.UUID) -> str:
    return f"{NotificationKind.MAILBOX_ERROR}:{account_id}"


def mailbox_error(
    *, user_id: uuid.UUID, account_id: uuid.UUID, mailbox: str, host: str, code: str | None
) -> NewNotification:
    problem = _MAILBOX_PROBLEMS.get(code or "", _CONNECTION_LOST)
    return NewNotification(
        user_id=user_id,
        kind=NotificationKind.MAILBOX_ERROR,
        title=f"{mailbox} stopped syncing"[:200],
        body=problem.format(host=host or "the mail server"),
        link=MAILBOXES_PAGE,
        data={"account_id": str(account_id), "code": code},
        dedupe_key=mailbox_dedupe_key(account_id),
    )


def _messages(count: int) -> str:
    return f"{count:,} message" + ("" if count == 1 else "s")


def import_finished(
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    mailbox: str,
    imported: int,
    skipped: int,
    errors: int,
    failure: str | None,
) -> NewNotification:
    data = {
        "account_id": str(account_id),
        "imported": imported,
        "skipped": skipped,
        "errors": errors,
    }
    if failure is not None:
        return NewNotification(
            user_id=user_id,
            kind=NotificationKind.IMPORT_FINISHED,
            title="Import stopped",
            body=f"{_messages(imported)} went into {mailbox} before it stopped. {failure}",
            link=MAILBOXES_PAGE,
            data={**data, "failed": True},
        )
    extras = []
    if skipped:
        extras.append(f"{_messages(skipped)} already there were skipped")
    if errors:
        extras.append(f"{_messages(errors)} could not be read")
    body = f"{_messages(imported)} imported into {mailbox}."
    if extras:
        body = f"{body[:-1]} ({'; '.join(extras)})."
    return NewNotification(
        user_id=user_id,
        kind=NotificationKind.IMPORT_FINISHED,
        title="Import finished",
        body=body,
        link=f"/?account={account_id}",
        data={**data, "failed": False},
    )


def new_sign_in(*, user_id: uuid.UUID, ip: str, user_agent: str) -> NewNotification:
    return NewNotification(
        user_id=user_id,
        kind=NotificationKind.NEW_SIGN_IN,
        title="New sign-in to your account",
        body=f"A device that hasn't signed in before did, from the address {ip}. If it wasn't "
        "you, change your password and sign out the devices you don't recognise.",
        link=SECURITY_PAGE,
        data={"ip": ip, "user_agent": user_agent},
    )
