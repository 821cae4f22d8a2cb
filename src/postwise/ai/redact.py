"""Placeholders for email addresses, phone and card numbers in mail that leaves the machine.

Hand-written patterns rather than a PII library (Presidio and the like bring spaCy models, far
more than three kinds of number need). A `Redactor` lives for one request: the same address gets
the same placeholder in every message, so the model can still tell who wrote to whom, and the
numbering follows the order of first appearance, so identical mail always redacts identically
(the cache stores the redacted answer and restores it per request). Addresses and phone numbers
are put back into the answer, which only the mail's owner sees; card numbers never are.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Any

from postwise.ai.mailview import MailView

_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# 13 to 19 digits, optionally in groups separated by one space or hyphen (ISO/IEC 7812).
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# A phone-shaped run: an optional +/00 prefix, digits with spaces, dots, hyphens or
# parentheses. Which runs are phones is decided in _is_phone.
_PHONE = re.compile(r"(?<![\w+])(?:\+|\(\+?)?\d[\d ().-]{5,}\d(?![\w@])")
_PHONE_CUE = re.compile(r"(?:tel|phone|mobile|mob|cell|call|fax|whatsapp)\b\W{0,6}$", re.I)
# Digit runs that look like phones but are not: dates, IPv4 addresses, thousands.
_NOT_PHONE = (
    re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"),
    re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"),
    re.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),
    re.compile(r"[1-9]\d{0,2}(?:[ .,]\d{3})+"),
)
_PLACEHOLDER = re.compile(r"\[(email|phone) (\d+)\]")
# Longest placeholder a stream may hold back while waiting for its closing bracket.
_MAX_PLACEHOLDER = len("[phone 99999]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class Redactor:
    def __init__(self) -> None:
        self._placeholders: dict[tuple[str, str], str] = {}
        self._originals: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def _placeholder(self, kind: str, original: str) -> str:
        key = (kind, original.lower() if kind == "email" else re.sub(r"\D", "", original))
        found = self._placeholders.get(key)
        if found is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            found = f"[{kind} {self._counts[kind]}]"
            self._placeholders[key] = found
            if kind != "card":
                self._originals[found] = original
        return found

    def text(self, text: str) -> str:
        text = _EMAIL.sub(lambda m: self._placeholder("email", m.group()), text)
        text = _CARD.sub(self._card, text)
        return _PHONE.sub(lambda m: self._phone(m, text), text)

    def _card(self, match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return self._placeholder("card", digits)
        return match.group()

    def _phone(self, match: re.Match[str], text: str) -> str:
        run = match.group()
        return self._placeholder("phone", run) if _is_phone(run, text[: match.start()]) else run

    def mail(self, mail: MailView) -> MailView:
        # The body is redacted piece by piece so the quote and signature offsets stay right.
        cuts = sorted({o for o in (mail.quote_offset, mail.signature_offset) if o is not None})
        bounds = [0, *cuts, len(mail.text)]
        pieces = [self.text(mail.text[a:b]) for a, b in itertools.pairwise(bounds)]
        moved = {old: sum(len(p) for p in pieces[: i + 1]) for i, old in enumerate(cuts)}
        return dataclasses.replace(
            mail,
            from_name=self.text(mail.from_name),
            from_address=self.text(mail.from_address),
            to=tuple(self.text(a) for a in mail.to),
            cc=tuple(self.text(a) for a in mail.cc),
            subject=self.text(mail.subject),
            text="".join(pieces),
            quote_offset=moved.get(mail.quote_offset) if mail.quote_offset is not None else None,
            signature_offset=(
                moved.get(mail.signature_offset) if mail.signature_offset is not None else None
            ),
            list_unsubscribe=self.text(mail.list_unsubscribe) if mail.list_unsubscribe else None,
            user_addresses=frozenset(self.text(a) for a in sorted(mail.user_addresses)),
        )

    def restore(self, text: str) -> str:
        """Addresses and phone numbers back in place of their placeholders."""
        return _PLACEHOLDER.sub(lambda m: self._originals.get(m.group(), m.group()), text)

    def restore_all(self, value: Any) -> Any:
        """`restore` applied to every string in a JSON-like value (an answer as stored)."""
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, list):
            return [self.restore_all(item) for item in value]
        if isinstance(value, dict):
            return {key: self.restore_all(item) for key, item in value.items()}
        return value

    def stream(self) -> StreamRestorer:
        return StreamRestorer(self)


def _is_phone(run: str, before: str) -> bool:
    digits = re.sub(r"\D", "", run)
    if not 7 <= len(digits) <= 15:
        return False
    bare = run.strip("()+")
    if any(p.fullmatch(bare) for p in _NOT_PHONE):
        return False
    if run.startswith(("+", "(+", "00")) or _PHONE_CUE.search(before[-24:]):
        return True
    # Separated groups ("030 1234 5678", "(555) 123-4567") read as phones; a bare run of
    # digits is more often an order or reference number, unless it has a trunk prefix.
    return bool(re.search(r"[ ().-]", run)) or run.startswith("0")


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a piece that may be the start
    of a placeholder until the next piece says whether it is one."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        start = text.rfind("[")
        if start != -1 and "]" not in text[start:] and len(text) - start < _MAX_PLACEHOLDER:
            self._pending = text[start:]
            text = text[:start]
        else:
            self._pending = ""
        return self._redactor.restore(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._redactor.restore(text)
