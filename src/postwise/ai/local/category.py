"""The category of a message: header signals first, then a linear model over its words, its
sender and its headers.

The shipped model is trained once per process (about 70 ms) from the hand-written seed corpus
in `data/seed.jsonl` (see data/README.md); `CategoryModel.fit` trains the same pipeline on any
labelled examples with any label names (`postwise eval category --train`).

Training uses scikit-learn. Prediction does not: scikit-learn spends about 0.5 ms per call on
validation and sparse-matrix plumbing for a single document, more than the whole triage budget
(500 messages/s), so `predict` scores with the fitted vocabulary, idf weights and coefficients
directly: the same arithmetic, checked against scikit-learn in tests/ai/test_category.py.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from postwise.ai.local.signals import Signals, header_signals, local_part
from postwise.ai.mailview import MailView
from postwise.ai.results import Category

__all__ = [
    "CategoryModel",
    "LinearTextModel",
    "SeedExample",
    "allowed_categories",
    "classify",
    "classify_with",
    "default_model",
    "load_seed",
    "meta_tokens",
    "probabilities",
]

# The user the seed corpus writes to: Alex Morgan, who works at Northwind; colleagues write
# from northwind.com.
SEED_USER = "alex.morgan@northwind.com"
# Characters of the body a model reads: the opening says what a message is, and long
# newsletters would otherwise cost time for nothing.
_TEXT_LIMIT = 3000
# Webmail providers: a sender there is a person, not a company system.
_FREEMAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "ymail.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "fastmail.com",
        "hey.com",
        "comcast.net",
        "verizon.net",
        "sbcglobal.net",
        "bellsouth.net",
        "btinternet.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "wp.pl",
        "telia.se",
        "naver.com",
        "163.com",
        "qq.com",
    }
)
_SPLIT_RE = re.compile(r"[^a-z]+")
_REPLY_RE = re.compile(r"^\s*(?:re|aw|sv|antw)\s*:", re.IGNORECASE)
_FORWARD_RE = re.compile(r"^\s*(?:fwd?|wg|tr)\s*:", re.IGNORECASE)
# Second-level labels that say nothing about the sender ("mail.example.co.uk").
_DOMAIN_NOISE = frozenset({"com", "org", "net", "co", "io", "mail", "email", "www", "e", "m"})


def mail_text(mail: MailView) -> str:
    """The words a model reads: the subject, then what the message itself says."""
    return f"{mail.subject}\n{mail.body[:_TEXT_LIMIT]}"


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def meta_tokens(mail: MailView, signals: Signals) -> list[str]:
    """Pseudo-words for who sent the message and how: header signals, sender domain and
    local-part pieces, webmail vs company sender, colleague (same domain as the user)."""
    found = signals.tokens()
    domain = _domain(mail.from_address)
    if domain not in _FREEMAIL:  # "gmail" says what "freemail" says, and less
        found += [f"dom_{p}" for p in domain.split(".")[:-1] if p not in _DOMAIN_NOISE]
    found += [f"lp_{p}" for p in _SPLIT_RE.split(local_part(mail.from_address)) if len(p) > 1]
    found += [f"nm_{p}" for p in _SPLIT_RE.split(mail.from_name.lower()) if len(p) > 1]
    if domain in _FREEMAIL:
        found.append("freemail")
    elif domain and any(_domain(a) == domain for a in mail.user_addresses):
        # A colleague; on a webmail domain, sharing it says nothing.
        found.append("same_domain")
    if _REPLY_RE.match(mail.subject):
        found.append("subj_reply")
    if _FORWARD_RE.match(mail.subject):
        found.append("subj_forward")
    if mail.has_attachments:
        found.append("attachment")
    if not mail.from_name:
        found.append("no_name")
    return found


# --- a linear model over sparse text features, with a fast single-document scorer ----------


@dataclass(frozen=True, slots=True)
class _Field:
    """One fitted vectorizer, kept as what scoring needs: its analyzer, vocabulary and idf."""

    analyzer: Callable[[str], Iterable[str]]
    vocabulary: dict[str, int]
    idf: list[float] | None  # a list: per-item indexing of a numpy array is slow
    sublinear: bool
    binary: bool
    offset: int  # where its columns start in the model's feature space
    weight: float

    def features(self, doc: str) -> tuple[list[int], list[float]]:
        vocabulary = self.vocabulary
        columns: list[int] = []
        counts: list[int] = []
        # Counted first (in C), looked up once per distinct token.
        for token, count in Counter(self.analyzer(doc)).items():
            column = vocabulary.get(token)
            if column is not None:
                columns.append(column)
                counts.append(count)
        if not columns:
            return [], []
        if self.binary:
            values = [1.0] * len(columns)
        elif self.sublinear:
            values = [1.0 + math.log(c) for c in counts]
        else:
            values = [float(c) for c in counts]
        if self.idf is not None:
            idf = self.idf
            values = [v * idf[c] for v, c in zip(values, columns, strict=True)]
        norm = math.sqrt(sum(v * v for v in values)) / self.weight
        return [c + self.offset for c in columns], [v / norm for v in values]


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
        min_df=1,
        token_pattern=r"(?u)\b\w\w+\b|[?!$€£%]",
        dtype=np.float64,
    )


def _token_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=str.split, lowercase=False, use_idf=False, binary=True, dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class _Fitted:
    """The scikit-learn objects behind a model, kept for `reference_probabilities`."""

    vectorizers: list[TfidfVectorizer]
    weights: list[float]
    classifier: SGDClassifier


class LinearTextModel:
    """A document is a few text fields; each gets its own l2-normalised tf-idf space, scaled
    by its weight: the first field is prose (words and word pairs), the others are
    space-separated pseudo-words. A linear classifier (SGD, log loss: tens of milliseconds on a
    few hundred messages, deterministic with its fixed seed) reads them all."""

    def __init__(
        self,
        fields: list[_Field],
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
        fitted: _Fitted,
    ) -> None:
        self._fields = fields
        self._coef = coef  # (features, classes); one column for two classes
        self._intercept = intercept
        self._fitted = fitted
        self.labels = [str(c) for c in fitted.classifier.classes_]

    @classmethod
    def fit(
        cls,
        docs: Sequence[Sequence[str]],
        labels: Sequence[str],
        *,
        weights: Sequence[float],
        alpha: float = 1e-4,
        class_weight: str | None = None,
    ) -> LinearTextModel:
        if len(set(labels)) < 2:
            raise ValueError("a model needs examples of at least two labels")
        fields: list[_Field] = []
        vectorizers: list[TfidfVectorizer] = []
        blocks = []
        offset = 0
        for position, weight in enumerate(weights):
            vectorizer = _word_vectorizer() if position == 0 else _token_vectorizer()
            vectorizers.append(vectorizer)
            matrix = vectorizer.fit_transform([d[position] for d in docs]) * weight
            blocks.append(matrix)
            idf = vectorizer.idf_ if vectorizer.use_idf else None
            fields.append(
                _Field(
                    analyzer=vectorizer.build_analyzer(),
                    vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                    idf=[float(x) for x in idf] if idf is not None else None,
                    sublinear=bool(vectorizer.sublinear_tf),
                    binary=bool(vectorizer.binary),
                    offset=offset,
                    weight=weight,
                )
            )
            offset += matrix.shape[1]
        classifier = SGDClassifier(
            loss="log_loss",
            alpha=alpha,
            max_iter=40,
            tol=None,
            random_state=0,
            class_weight=class_weight,
        )
        classifier.fit(sparse.hstack(blocks).tocsr(), list(labels))
        coef = np.ascontiguousarray(classifier.coef_.T, dtype=np.float64)
        intercept = np.asarray(classifier.intercept_, dtype=np.float64)
        return cls(fields, coef, intercept, _Fitted(vectorizers, list(weights), classifier))

    def reference_probabilities(self, docs: Sequence[str]) -> dict[str, float]:
        """`probabilities` computed by scikit-learn itself: slow, for checking the fast path."""
        fitted = self._fitted
        blocks = [
            v.transform([doc]) * w
            for v, w, doc in zip(fitted.vectorizers, fitted.weights, docs, strict=True)
        ]
        row = fitted.classifier.predict_proba(sparse.hstack(blocks).tocsr())[0]
        return {label: float(p) for label, p in zip(self.labels, row, strict=True)}

    def vector(self, docs: Sequence[str]) -> tuple[list[int], list[float]]:
        columns: list[int] = []
        values: list[float] = []
        for field, doc in zip(self._fields, docs, strict=True):
            c, v = field.features(doc)
            columns += c
            values += v
        return columns, values

    def probabilities(self, docs: Sequence[str]) -> dict[str, float]:
        """Per label, as scikit-learn's predict_proba for SGD log loss: one-vs-rest sigmoids,
        normalised to sum to one (a plain sigmoid for two labels)."""
        columns, values = self.vector(docs)
        scores = self._intercept.copy()
        if columns:
            scores += np.asarray(values) @ self._coef[columns]
        sigmoid = 0.5 * (1.0 + np.tanh(0.5 * scores))  # 1 / (1 + e^-x), without overflow
        if len(self.labels) == 2:
            return {self.labels[0]: float(1.0 - sigmoid[0]), self.labels[1]: float(sigmoid[0])}
        total = float(sigmoid.sum())
        share = sigmoid / total if total > 0 else np.full(len(sigmoid), 1.0 / len(sigmoid))
        return {label: float(p) for label, p in zip(self.labels, share, strict=True)}


# --- categories -----------------------------------------------------------------------------

# How much the sender and header tokens weigh against the words (both spaces l2-normalised).
_META_WEIGHT = 0.8


def category_docs(mail: MailView) -> tuple[str, str]:
    return mail_text(mail), " ".join(meta_tokens(mail, header_signals(mail)))


class CategoryModel:
    """Messages to labels, whatever the labels are called."""

    def __init__(self, model: LinearTextModel) -> None:
        self._model = model

    @property
    def labels(self) -> list[str]:
        return list(self._model.labels)

    @classmethod
    def fit(cls, examples: Sequence[tuple[MailView, str]]) -> CategoryModel:
        docs = [category_docs(mail) for mail, _ in examples]
        labels = [label for _, label in examples]
        return cls(LinearTextModel.fit(docs, labels, weights=(1.0, _META_WEIGHT)))

    def probabilities(self, mail: MailView) -> dict[str, float]:
        return self._model.probabilities(category_docs(mail))

    def predict(self, mail: MailView) -> tuple[str, float]:
        probabilities = self.probabilities(mail)
        label = max(probabilities, key=lambda k: probabilities[k])
        return label, probabilities[label]


# --- the shipped seed corpus ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeedExample:
    mail: MailView
    category: str
    needs_reply: bool


def _seed_view(row: dict[str, Any]) -> MailView:
    name, address = parseaddr(str(row["from"]))
    cc_me = bool(row.get("cc_me"))
    to = tuple(row.get("to") or (() if cc_me else (SEED_USER,)))
    cc = tuple(row.get("cc") or ()) + ((SEED_USER,) if cc_me else ())
    return MailView(
        subject=str(row["subject"]),
        from_name=name,
        from_address=address.lower(),
        text=str(row["body"]),
        to=to,
        cc=cc,
        list_id=row.get("list_id"),
        list_unsubscribe=row.get("list_unsubscribe"),
        precedence=row.get("precedence"),
        auto_submitted=row.get("auto_submitted"),
        has_calendar=bool(row.get("calendar")),
        has_attachments=bool(row.get("attachments")),
        user_addresses=frozenset({SEED_USER}),
    )


_SEED_LOCK = threading.Lock()
_seed: list[SeedExample] | None = None
_model: CategoryModel | None = None


def load_seed() -> list[SeedExample]:
    """The hand-written corpus shipped in `data/seed.jsonl`, read once per process."""
    global _seed
    with _SEED_LOCK:
        if _seed is None:
            text = resources.files("postwise.ai.local").joinpath("data/seed.jsonl").read_text()
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            _seed = [
                SeedExample(_seed_view(r), str(r["category"]), bool(r["needs_reply"])) for r in rows
            ]
        return _seed


def default_model() -> CategoryModel:
    """The shipped model, trained on first use (once per process)."""
    global _model
    seed = load_seed()
    with _SEED_LOCK:
        if _model is None:
            _model = CategoryModel.fit([(s.mail, s.category) for s in seed])
        return _model


# What a program or a mass mailing can be; a person's own note to the user is never one.
_MACHINE = frozenset(
    {
        Category.NEWSLETTER,
        Category.NOTIFICATION,
        Category.PROMOTION,
        Category.RECEIPT,
        Category.SOCIAL,
        Category.CALENDAR,
    }
)


def allowed_categories(signals: Signals) -> frozenset[Category] | None:
    """What the headers leave possible, or None for anything.

    A no-reply or automated sender is a machine. Bulk headers without a List-Id (an
    unsubscribe link, Precedence: bulk) are a mass mailing, which includes sales sequences. A
    List-Id alone proves little: people write to family and work lists too."""
    if signals.automated or signals.noreply:
        return _MACHINE
    if signals.bulk and not signals.list:
        return _MACHINE | {Category.COLD_OUTREACH}
    return None


def probabilities(mail: MailView, *, signals: Signals | None = None) -> dict[str, float]:
    """The shipped model's probability per category, narrowed by the headers
    (`allowed_categories`) and summing to one."""
    found = default_model().probabilities(mail)
    allowed = allowed_categories(signals if signals is not None else header_signals(mail))
    if allowed is None:
        return found
    kept = {k: p for k, p in found.items() if k in allowed}
    total = sum(kept.values())
    return {k: p / total for k, p in kept.items()} if total > 0 else kept


def classify_with(mail: MailView, *, signals: Signals) -> tuple[Category, float, dict[str, float]]:
    """`classify` with the header signals known, also returning the probabilities."""
    if signals.calendar:
        return Category.CALENDAR, 0.97, {Category.CALENDAR.value: 0.97}
    found = probabilities(mail, signals=signals)
    label = max(found, key=lambda k: found[k])
    return Category(label), found[label], found


def classify(mail: MailView) -> tuple[Category, float]:
    """The category and the model's confidence in it (0-1).

    A calendar part settles it: an invitation is a calendar message whoever sends it. Then the
    headers narrow the choice (`allowed_categories`) and the model picks among what is left."""
    category, confidence, _ = classify_with(mail, signals=header_signals(mail))
    return category, confidence
