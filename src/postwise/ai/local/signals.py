"""What a message's headers say before anyone reads it: sent in bulk, sent by a machine, sent to
the user directly or in copy. Every triage decision starts here (RFC 2369 list headers,
RFC 3834 Auto-Submitted, the de-facto Precedence header, iTIP calendar parts)."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass

from postwise.ai.mailview import MailView

# Local parts of senders nobody answers: they say so ("no-reply"), or they are a system's
# outbox ("notifications@github.com", "mailer-daemon"). Matched on the whole local part, with
# separators and a trailing number or tag allowed ("noreply+abc", "no_reply2").
_NOREPLY_RE = re.compile(
    r"^(?:(?:do[-_.]?not|dont|do[-_.]?no)[-_.]?reply|no[-_.]?reply|noreply|no[-_.]?respon[sd]e?"
    r"|notifications?|notify|notifier|alerts?|mailer[-_.]?daemon|postmaster|bounces?"
    r"|auto[-_.]?(?:mail|mailer|reply|confirm)|automated|donotreply|system|daemon)"
    r"(?:[-_.+].*|\d+)?$"
)
# Local parts of senders that only broadcast: newsletters and marketing outboxes.
_BROADCAST_RE = re.compile(
    r"^(?:news(?:letters?)?|marketing|promo(?:tions?)?|offers?|deals|updates?|digest"
    r"|mailings?|announce(?:ments?)?|hello|team|info|store|shop)(?:[-_.+].*|\d+)?$"
)
# Precedence values that mean "sent to many" (RFC 2076 lists bulk, list and junk).
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


@dataclass(frozen=True, slots=True)
class Signals:
    """Header facts about one message, from the user's point of view.

    - `bulk`: sent to many at once: List-Id, List-Unsubscribe or Precedence bulk/list/junk.
    - `list`: a mailing list in particular: List-Id or Precedence: list.
    - `automated`: written by a program: Auto-Submitted other than "no" (RFC 3834), or a
      bounce/daemon sender.
    - `noreply`: the sender's address says replies go nowhere (no-reply@, notifications@...).
    - `broadcast_sender`: the sender's address is a newsletter or marketing outbox (news@,
      marketing@, info@...); weaker than `noreply`, so not part of `machine`.
    - `calendar`: a text/calendar part or an .ics file came with it.
    - `to_me` / `cc_me`: one of the user's addresses is in To / only in Cc.
    - `direct`: the user is the only recipient (To and Cc).
    - `from_me`: the user sent it.
    - `recipients`: how many addresses are in To and Cc.
    """

    bulk: bool
    list: bool  # shadows the builtin inside this class body: see `tokens`
    automated: bool
    noreply: bool
    broadcast_sender: bool
    calendar: bool
    to_me: bool
    cc_me: bool
    direct: bool
    from_me: bool
    recipients: int

    @property
    def machine(self) -> bool:
        """Nobody is waiting for an answer: bulk, automated or from a no-reply address."""
        return self.bulk or self.automated or self.noreply

    def tokens(self) -> builtins.list[str]:
        """The signals as pseudo-words, for models that read words."""
        names = (
            "bulk",
            "list",
            "automated",
            "noreply",
            "broadcast_sender",
            "calendar",
            "to_me",
            "cc_me",
            "direct",
            "from_me",
        )
        found = [f"hdr_{name}" for name in names if getattr(self, name)]
        found.append("hdr_many" if self.recipients > 3 else f"hdr_rcpt{self.recipients}")
        return found


def local_part(address: str) -> str:
    return address.rpartition("@")[0].lower() if "@" in address else address.lower()


def is_noreply(address: str) -> bool:
    return bool(_NOREPLY_RE.match(local_part(address)))


def is_automated(mail: MailView) -> bool:
    """Auto-Submitted present and not "no" (RFC 3834), or a delivery report's sender."""
    value = (mail.auto_submitted or "").partition(";")[0].strip()
    if value and value != "no":
        return True
    return local_part(mail.from_address) in {"mailer-daemon", "postmaster"}


def header_signals(mail: MailView) -> Signals:
    mine = mail.user_addresses
    to = {a.lower() for a in mail.to}
    cc = {a.lower() for a in mail.cc}
    to_me = bool(to & mine)
    precedence = (mail.precedence or "").strip()
    listed = bool(mail.list_id) or precedence == "list"
    return Signals(
        bulk=listed or bool(mail.list_unsubscribe) or precedence in _BULK_PRECEDENCE,
        list=listed,
        automated=is_automated(mail),
        noreply=is_noreply(mail.from_address),
        broadcast_sender=bool(_BROADCAST_RE.match(local_part(mail.from_address))),
        calendar=mail.has_calendar,
        to_me=to_me,
        cc_me=not to_me and bool(cc & mine),
        direct=bool(mine) and bool(to | cc) and (to | cc) <= mine,
        from_me=mail.from_user,
        recipients=len(to | cc),
    )
