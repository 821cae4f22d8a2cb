"""ROUGE-1, ROUGE-2 and ROUGE-L F1 (Lin, 2004) for `postwise eval summary` and the dev-set test.

Self-written: the reference implementation (`rouge-score`) is not installed and would pull nltk
and absl for forty lines of arithmetic. It follows that package's defaults: lower-cased
alphanumeric tokens, no stemming, clipped n-gram counts, sentence-level LCS for ROUGE-L, and the
best score over the references for each measure separately.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["scores", "tokens"]

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower())


def _f1(overlap: int, candidate_total: int, reference_total: int) -> float:
    if overlap == 0 or candidate_total == 0 or reference_total == 0:
        return 0.0
    precision = overlap / candidate_total
    recall = overlap / reference_total
    return 2 * precision * recall / (precision + recall)


def _ngrams(items: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(items[i : i + n]) for i in range(len(items) - n + 1))


def _ngram_f1(candidate: list[str], reference: list[str], n: int) -> float:
    ours, theirs = _ngrams(candidate, n), _ngrams(reference, n)
    overlap = sum((ours & theirs).values())
    return _f1(overlap, sum(ours.values()), sum(theirs.values()))


def _lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def scores(candidate: str, references: Sequence[str]) -> dict[str, float]:
    """F1 of `candidate` against the best of `references` for each measure (0.0 when either
    side has no tokens)."""
    ours = tokens(candidate)
    best = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for reference in references:
        theirs = tokens(reference)
        best["rouge1"] = max(best["rouge1"], _ngram_f1(ours, theirs, 1))
        best["rouge2"] = max(best["rouge2"], _ngram_f1(ours, theirs, 2))
        lcs = _lcs_length(ours, theirs)
        best["rougeL"] = max(best["rougeL"], _f1(lcs, len(ours), len(theirs)))
    return best
