"""The mail both engines search: bench.sync's generated corpus written as a Maildir, and what
the bench learns about it while writing, so that every query of the mix is known to find mail.

Every message leaves its envelope (folder, flags, size, date: exact counts for the queries that
need no text); one in `every` is also parsed (Postwise's MIME parser, the text the index gets) for
its words, subject, people and attachment names. Parsing all 100,000 would add minutes; a
sample of about 2,000 is enough to choose words that occur.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.sync.generate import Corpus, CorpusStats, Mail, write_maildir
from postwise.mime.parse import parse_message

SAMPLES = 2000  # parsed messages, at most
# A token as SQLite FTS5's unicode61 tokenizer (and, near enough, Xapian's) cuts text: runs of
# letters and digits; the underscore separates.
_TOKEN = re.compile(r"[^\W_]+")
# Phrases are taken within a clause, so that "atlas. Look" is not offered as the phrase
# "atlas look" (both engines would find it, but nobody types it).
_CLAUSE = re.compile(r"[.,;:!?()<>\[\]\"|\n]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def bigrams(text: str) -> frozenset[tuple[str, str]]:
    """Pairs of words that follow each other within a clause of `text`."""
    pairs: set[tuple[str, str]] = set()
    for clause in _CLAUSE.split(text):
        words = tokens(clause)
        pairs.update(itertools.pairwise(words))
    return frozenset(pairs)


@dataclass(frozen=True, slots=True)
class Envelope:
    received: float  # epoch seconds (the Date header both engines file the message under)
    size: int  # bytes, as written
    folder: str
    unread: bool
    starred: bool


@dataclass(frozen=True, slots=True)
class Sample:
    """A parsed message: what its text and headers hold."""

    envelope: Envelope
    kind: str
    subject: tuple[str, ...]  # subject tokens, in order
    words: frozenset[str]  # subject and body tokens
    bigrams: frozenset[tuple[str, str]]  # in the subject or the body
    sender: str  # address, lower case
    recipients: tuple[str, ...]  # To addresses, lower case
    filenames: tuple[str, ...]


@dataclass
class Facts:
    seed: int
    end: float  # the corpus's last possible date (epoch seconds)
    user: str  # the mailbox owner's address
    people: list[str]  # the addresses of everyone the generator writes as
    stats: CorpusStats
    envelopes: list[Envelope] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0  # generating, writing and sampling

    @property
    def count(self) -> int:
        return len(self.envelopes)


def _envelope(mail: Mail) -> Envelope:
    # Sent mail carries \Seen; received mail without S is unread (docs/import.md, notmuch's
    # maildir.synchronize_flags: the same rule on both sides).
    return Envelope(
        received=mail.received,
        size=len(mail.raw),
        folder=mail.folder,
        unread="S" not in mail.flags,
        starred="F" in mail.flags,
    )


def _sample(mail: Mail, envelope: Envelope) -> Sample:
    parsed = parse_message(mail.raw)
    sender = parsed.from_.address.lower() if parsed.from_ is not None else ""
    return Sample(
        envelope=envelope,
        kind=mail.kind,
        subject=tuple(tokens(parsed.subject)),
        words=frozenset(tokens(parsed.subject + "\n" + parsed.text)),
        bigrams=bigrams(parsed.subject) | bigrams(parsed.text),
        sender=sender,
        recipients=tuple(a.address.lower() for a in parsed.to),
        filenames=tuple(a.filename for a in parsed.attachments if not a.is_inline),
    )


def _observed(mails: Iterator[Mail], facts: Facts, every: int) -> Iterator[Mail]:
    for index, mail in enumerate(mails):
        envelope = _envelope(mail)
        facts.envelopes.append(envelope)
        if index % every == 0:
            facts.samples.append(_sample(mail, envelope))
        yield mail


def write_corpus(maildir: Path, count: int, *, seed: int, end: datetime | None = None) -> Facts:
    """`Corpus(seed).mails(count)` into `maildir` (Maildir++: INBOX at the root, `.Sent`,
    `.Archive`), learning the facts on the way."""
    started = time.monotonic()
    corpus = Corpus(seed, end=end)
    facts = Facts(
        seed=seed,
        end=corpus.end,
        user=corpus.user.address,
        people=[person.address for person in corpus.contacts],
        stats=CorpusStats(),
    )
    every = max(1, count // SAMPLES)
    mails = corpus.mails(count, stats=facts.stats)
    written = write_maildir(maildir, _observed(mails, facts, every))
    if written != count:
        raise RuntimeError(f"{written} messages written, {count} generated")
    os.sync()  # on disk now, not under the indexers
    facts.seconds = time.monotonic() - started
    return facts
