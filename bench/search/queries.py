"""The query mix: what people type into a mail search box, each in Postwise's (Gmail's) syntax
and in notmuch's, with values taken from the generated mail so that every query finds some.

Values are chosen by rules over the sample (`corpus.Facts`), not written down, so the mix follows
the corpus if the generator changes, and the same seed gives the same mix. Words must occur in
at least two sampled messages: the generator's URLs hold random tokens, which would make a
"rare word" that nobody types. Address parts (`example`, `smith`) are left out of the word
choices so that words are words of the text.

notmuch mapping (notmuch-search-terms(7)): words and phrases as they are; `from:`, `to:` and
`subject:` keep their names (notmuch's `to:` also looks at Cc and Bcc); `has:attachment` is
`tag:attachment` (tagged by `notmuch new`), `filename:` is `attachment:`; `is:unread` and
`is:starred` are `tag:unread` and `tag:flagged` (synchronised from the Maildir flags); `in:inbox`
and `in:sent` are `folder:""` and `folder:.Sent` (Maildir++); dates are `date:@<from>..@<to>`
with the same UTC instants (notmuch's upper bound is inclusive, hence one second less); `-x` is
`not x` and `OR` is `or`. notmuch has no size search: `larger:` has no equivalent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bench.search.corpus import Envelope, Facts, Sample, tokens
from bench.sync.generate import INBOX, SENT

# `larger:` bounds, largest first: the first that some message exceeds is used (1M in the
# 100,000-message mailbox, smaller in a small one).
SIZES = (("1M", 1 << 20), ("500K", 500 << 10), ("200K", 200 << 10), ("100K", 100 << 10))
NOTHING = "zqxjvwkpfbnothing"  # a word in no message: the fixed cost of a search, both sides


@dataclass(frozen=True, slots=True)
class Query:
    label: str  # what it exercises
    postwise: str  # sent as `q=`
    notmuch: str | None  # None: notmuch cannot express it
    messages: int | None = None  # messages it matches, when the envelopes tell exactly


class NoValue(Exception):
    """The sample holds nothing a rule needs (a corpus too small for the mix)."""


def _day(value: date) -> str:
    return f"{value:%Y/%m/%d}"


def _stamp(value: date) -> int:
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())


def _month_before(end: float, months: int) -> tuple[date, date]:
    """The calendar month `months` before the one holding `end`: (first day, first of next)."""
    last = datetime.fromtimestamp(end, UTC).date()
    index = last.year * 12 + last.month - 1 - months
    start = date(index // 12, index % 12 + 1, 1)
    following = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return start, following


def _size_bound(envelopes: Sequence[Envelope]) -> tuple[str, int]:
    largest = max(e.size for e in envelopes)
    for text, size in SIZES:
        if largest > size:
            return text, size
    raise NoValue(f"no message is larger than {SIZES[-1][0]}")


def _count(envelopes: Iterable[Envelope], test: Callable[[Envelope], bool]) -> int:
    return sum(1 for envelope in envelopes if test(envelope))


class Vocabulary:
    """Document frequencies of the sample's words, bigrams, subject words and people."""

    def __init__(self, facts: Facts) -> None:
        self.samples: Sequence[Sample] = facts.samples
        if len(self.samples) < 20:
            raise NoValue(f"{len(self.samples)} parsed messages are too few to choose words")
        people = {facts.user, *facts.people, *(s.sender for s in self.samples)}
        people.update(r for s in self.samples for r in s.recipients)
        self.address_parts = {part for address in people for part in tokens(address)}
        self.docs: dict[str, set[int]] = {}
        self.bigrams: Counter[tuple[str, str]] = Counter()
        self.subject: Counter[str] = Counter()
        for index, sample in enumerate(self.samples):
            for word in sample.words:
                if self._is_word(word, 5):
                    self.docs.setdefault(word, set()).add(index)
            self.bigrams.update(
                (a, b)
                for a, b in sample.bigrams
                if a != b and self._is_word(a, 5) and self._is_word(b, 5)
            )
            self.subject.update(w for w in set(sample.subject) if self._is_word(w, 5))
        # Recurring only: see the module's docstring.
        self.docs = {word: docs for word, docs in self.docs.items() if len(docs) >= 2}
        if not self.docs:
            raise NoValue("no word occurs in two sampled messages")

    def _is_word(self, token: str, length: int) -> bool:
        return (
            len(token) >= length
            and token.isascii()
            and token.isalpha()
            and token not in self.address_parts
        )

    def df(self, word: str) -> int:
        return len(self.docs.get(word, ()))

    def by_frequency(self) -> list[str]:
        """Most frequent first; ties alphabetical, so the choice is stable."""
        return sorted(self.docs, key=lambda word: (-self.df(word), word))

    def band(self, low: float, high: float) -> list[str]:
        n = len(self.samples)
        return [w for w in self.by_frequency() if low * n <= self.df(w) <= high * n]

    def common(self) -> str:
        return self.by_frequency()[0]

    def rare(self) -> str:
        return min(self.docs, key=lambda word: (self.df(word), word))

    def pair(self) -> tuple[str, str]:
        """Two fairly common words whose AND is much narrower than either."""
        band = self.band(0.05, 0.3) or self.by_frequency()[:10]
        first = band[0]
        others = [w for w in band[1:] if len(self.docs[first] & self.docs[w]) >= 2]
        if not others:
            raise NoValue(f"no word occurs with {first!r} twice")
        second = min(others, key=lambda w: (len(self.docs[first] & self.docs[w]), w))
        return first, second

    def excluded_from(self, word: str) -> str:
        """A frequent word that some messages with `word` lack (for `word -other`)."""
        for other in self.by_frequency():
            if other != word and self.docs[word] - self.docs[other]:
                return other
        raise NoValue(f"every message with {word!r} has every other word")

    def phrase(self) -> str:
        """Two words that stand together (a name such as "budget review": most messages with
        either word have the pair, unlike "finance about"), in about a tenth of the mail."""
        target = 0.1 * len(self.samples)
        found = [
            (pair, n)
            for pair, n in self.bigrams.items()
            if n >= 2 and n >= 0.8 * min(self.df(pair[0]), self.df(pair[1]))
        ]
        if not found:
            raise NoValue("no two words stand together in two sampled messages")
        (a, b), _ = min(found, key=lambda item: (abs(item[1] - target), item[0]))
        return f"{a} {b}"

    def subject_word(self) -> str:
        target = 0.02 * len(self.samples)
        found = [(w, n) for w, n in self.subject.items() if n >= 2]
        if not found:
            raise NoValue("no subject word occurs twice")
        return min(found, key=lambda item: (abs(item[1] - target), item[0]))[0]

    def senders(self, user: str) -> list[str]:
        """People who write (the mailbox owner and automated senders left out), most first."""
        counts = Counter(
            s.sender
            for s in self.samples
            if s.kind in ("conversation", "attachment") and s.sender and s.sender != user
        )
        return [address for address, _ in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]

    def recipient(self, *, skip: Iterable[str]) -> str:
        """Whom the owner writes to most (`skip`: the owner, and the sender already chosen)."""
        left_out = set(skip)
        counts = Counter(
            r
            for s in self.samples
            if s.envelope.folder == SENT
            for r in s.recipients
            if r not in left_out
        )
        if not counts:
            raise NoValue("no sent message in the sample")
        return min(counts.items(), key=lambda i: (-i[1], i[0]))[0]

    def needle(self) -> str:
        """An order or parcel number: a token found in one message of the whole mailbox."""
        for sample in self.samples:
            if sample.kind == "notification":
                numbers = [t for t in sample.subject if t.isdigit() and len(t) == 7]
                if numbers:
                    return numbers[0]
        raise NoValue("no order number in the sampled notifications")

    def attachment_mail(self, user: str) -> Sample:
        """A read message with an attachment from the person who sends most of them."""
        # Attachment mail only: a calendar notification's invite has a name too, but notmuch
        # does not tag it as an attachment.
        candidates = [
            s
            for s in self.samples
            if s.kind == "attachment" and s.sender != user and not s.envelope.unread
        ]
        if not candidates:
            raise NoValue("no read message with an attachment in the sample")
        counts = Counter(s.sender for s in candidates)
        sender = min(counts.items(), key=lambda i: (-i[1], i[0]))[0]
        return max((s for s in candidates if s.sender == sender), key=lambda s: s.envelope.received)

    def extension(self) -> str:
        names = Counter(
            n.rsplit(".", 1)[-1].lower() for s in self.samples for n in s.filenames if "." in n
        )
        if not names:
            raise NoValue("no attachment name in the sample")
        return "pdf" if "pdf" in names else min(names.items(), key=lambda i: (-i[1], i[0]))[0]


def build_mix(facts: Facts, *, now: datetime) -> list[Query]:
    """About twenty queries over `facts`' mail; `now` fixes notmuch's side of `newer_than:`."""
    words = Vocabulary(facts)
    envelopes = facts.envelopes
    common, rare = words.common(), words.rare()
    first, second = words.pair()
    other = words.excluded_from(common)
    phrase = words.phrase()
    subject = words.subject_word()
    senders = words.senders(facts.user)
    if len(senders) < 3:
        raise NoValue("fewer than three people write in the sample")
    to = words.recipient(skip=(facts.user, senders[0]))
    extension = words.extension()
    month, next_month = _month_before(facts.end, 12)
    recent = now - timedelta(days=30)
    big_text, big = _size_bound(envelopes)
    mail = words.attachment_mail(facts.user)
    floor = datetime.fromtimestamp(mail.envelope.received, UTC).date() - timedelta(days=365)
    combo = f"from:{mail.sender} has:attachment after:{_day(floor)} -is:unread"
    combo_notmuch = (
        f"from:{mail.sender} and tag:attachment and date:@{_stamp(floor)}.. and not tag:unread"
    )
    return [
        Query("common word", common, common),
        Query("rare word", rare, rare),
        Query("unique token (an order number)", words.needle(), words.needle()),
        Query("two words (AND)", f"{first} {second}", f"{first} and {second}"),
        Query("phrase", f'"{phrase}"', f'"{phrase}"'),
        Query("from: (address)", f"from:{senders[0]}", f"from:{senders[0]}"),
        Query("to: (address)", f"to:{to}", f"to:{to}"),
        Query("subject: word", f"subject:{subject}", f"subject:{subject}"),
        Query("has:attachment", "has:attachment", "tag:attachment"),
        Query(f"filename:{extension}", f"filename:{extension}", f"attachment:{extension}"),
        Query("is:unread", "is:unread", "tag:unread", _count(envelopes, lambda e: e.unread)),
        Query("is:starred", "is:starred", "tag:flagged", _count(envelopes, lambda e: e.starred)),
        Query(
            "in:sent",
            "in:sent",
            "folder:.Sent",
            _count(envelopes, lambda e: e.folder == SENT),
        ),
        Query(
            "in:inbox is:unread",
            "in:inbox is:unread",
            'folder:"" and tag:unread',
            _count(envelopes, lambda e: e.folder == INBOX and e.unread),
        ),
        Query(
            "after: before: (a month)",
            f"after:{_day(month)} before:{_day(next_month)}",
            f"date:@{_stamp(month)}..@{_stamp(next_month) - 1}",
            _count(envelopes, lambda e: _stamp(month) <= e.received < _stamp(next_month)),
        ),
        Query(
            "newer_than:30d",
            "newer_than:30d",
            f"date:@{int(recent.timestamp())}..",
            _count(envelopes, lambda e: e.received >= recent.timestamp()),
        ),
        Query(
            f"larger:{big_text}",
            f"larger:{big_text}",
            None,
            _count(envelopes, lambda e: e.size > big),
        ),
        Query("negation (word -word)", f"{common} -{other}", f"{common} and not {other}"),
        Query(
            "OR (two senders)",
            f"from:{senders[1]} OR from:{senders[2]}",
            f"from:{senders[1]} or from:{senders[2]}",
        ),
        Query("4 operators", combo, combo_notmuch),
    ]


def baseline() -> Query:
    """A search that finds nothing: what either side costs before any work on results."""
    return Query("nothing (fixed cost)", NOTHING, NOTHING, 0)
