"""A generated mail corpus whose true grouping into conversations is known, for threading tests."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from postwise.mail.threading import ThreadInput
from postwise.mime.subjects import SUBJECT_WINDOW

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
INBOX, ALL_MAIL, SENT = "INBOX", "[Gmail]/All Mail", "Sent"


# --- a corpus with known conversations ------------------------------------------------------


@dataclass
class Mail:
    key: str
    conversation: int
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    date: datetime
    folder: str = INBOX
    gm_thrid: int | None = None
    is_read: bool = False

    def thread_input(self) -> ThreadInput:
        return ThreadInput(
            key=self.key,
            message_id=self.message_id,
            in_reply_to=self.in_reply_to,
            references=tuple(self.references),
            subject=self.subject,
            date=self.date,
        )


REPLY_PREFIXES = ["Re: ", "RE: ", "Re: Re: ", "AW: ", "Fwd: ", "SV: ", "[team] Re: "]


def _reply(rng: random.Random, parent: Mail, topic: str, mail_id: str, n: int) -> Mail:
    date = parent.date + timedelta(hours=rng.uniform(0.5, 30))
    subject = rng.choice(REPLY_PREFIXES) + topic
    kind = rng.random()
    own_id: str | None = mail_id
    refs = [*parent.references, parent.message_id] if parent.message_id else []
    in_reply_to = parent.message_id
    if kind < 0.10:  # a client that drops the headers: only the subject places it
        refs, in_reply_to = [], None
    elif kind < 0.25:  # In-Reply-To only
        refs = []
    elif kind < 0.30:  # a reply without a Message-ID of its own
        own_id = None
    elif kind < 0.35:  # the subject changed mid-conversation; the headers still hold it
        subject = f"Re: new angle on {topic} {n}"
    return Mail(mail_id, -1, own_id, in_reply_to, refs, subject, date)


def make_corpus(seed: int, conversations: int = 50) -> list[Mail]:
    rng = random.Random(seed)
    mails: list[Mail] = []
    for c in range(conversations):
        topic = f"Project {c} {rng.choice(['budget', 'launch', 'hiring', 'offsite'])}"
        start = T0 + timedelta(days=rng.uniform(0, 200))
        root = Mail(f"s{seed}c{c}m0", c, f"s{seed}c{c}m0@example.org", None, [], topic, start)
        conversation = [root]
        for n in range(1, rng.randint(1, 12)):
            # Branching: any earlier message with an id can be the one answered.
            parent = rng.choice([m for m in conversation if m.message_id])
            mail_id = f"s{seed}c{c}m{n}"
            conversation.append(_reply(rng, parent, topic, f"{mail_id}@example.org", n))
        for mail in conversation:
            mail.conversation = c
            mail.key = mail.key.split("@")[0]
            mail.is_read = rng.random() < 0.5
            if c % 4 == 0:  # Gmail knows the conversation
                mail.gm_thrid = 10**15 + seed * 1000 + c
        mails.extend(conversation)
    mails.extend(_unrelated(rng, seed, first_conversation=conversations))
    copies = [
        replace(m, key=f"{m.key}-copy", folder=ALL_MAIL)
        for m in mails
        if m.message_id and rng.random() < 0.06
    ]
    return mails + copies


def _unrelated(rng: random.Random, seed: int, *, first_conversation: int) -> Iterator[Mail]:
    """Originals sharing a subject, close in time, that must each stay on their own; two
    separate conversations with the same topic, held together only by their headers; and
    replies whose parents never arrive."""
    c = first_conversation
    for subject, count in (("Weekly report", 8), ("Hello", 4)):
        for n in range(count):
            date = T0 + timedelta(days=3 * n, minutes=rng.randint(0, 600))
            yield Mail(f"s{seed}u{c}", c, f"s{seed}u{c}@example.org", None, [], subject, date)
            c += 1
    for n in range(2):
        root_id = f"s{seed}u{c}@example.org"
        date = T0 + timedelta(days=n)
        yield Mail(f"s{seed}u{c}", c, root_id, None, [], "Status update", date)
        reply_date = date + timedelta(hours=2)
        reply_id = f"s{seed}u{c}r@example.org"
        yield Mail(
            f"s{seed}u{c}r", c, reply_id, root_id, [root_id], "Re: Status update", reply_date
        )
        c += 1
    # Replies to mail the mailbox never got (it was copied in later): the first joins the
    # original with its subject (JWZ), the second is too far from it (SUBJECT_WINDOW), the
    # third has too generic a subject to join the "Hello" originals around it.
    for subject, original_day, reply_day in (
        ("Budget review", 9, 10),
        ("Quarterly plan", 40, 80),
        ("Hello", None, 4),
    ):
        if original_day is not None:
            date = T0 + timedelta(days=original_day)
            yield Mail(f"s{seed}u{c}", c, f"s{seed}u{c}@example.org", None, [], subject, date)
            c += 1 if reply_day - original_day > SUBJECT_WINDOW.days else 0
        lost = f"s{seed}lost{c}@example.org"
        date = T0 + timedelta(days=reply_day, hours=rng.randint(0, 9))
        reply_id = f"s{seed}u{c}d@example.org"
        yield Mail(f"s{seed}u{c}d", c, reply_id, lost, [lost], f"Re: {subject}", date)
        c += 1
    # No Message-ID at all: never joins anything, never breaks anything.
    yield Mail(f"s{seed}u{c}", c, None, None, [], "Your receipt", T0)


def known_groups(mails: Sequence[Mail]) -> set[frozenset[str]]:
    by_conversation: defaultdict[int, set[str]] = defaultdict(set)
    for mail in mails:
        by_conversation[mail.conversation].add(mail.key)
    return {frozenset(keys) for keys in by_conversation.values()}
