"""ROUGE against known answers: the rouge-score package's README example, worked by hand."""

from __future__ import annotations

import pytest

from postwise.ai.local.rouge import scores, tokens


def test_the_reference_implementations_example() -> None:
    # rouge-score's README: rouge1 P=0.75 R=0.6667 F=0.7059, rougeL P=0.625 R=0.5556 F=0.5882.
    got = scores(
        "The quick brown dog jumps on the log.", ["The quick brown fox jumps over the lazy dog"]
    )
    assert got["rouge1"] == pytest.approx(12 / 17)
    assert got["rougeL"] == pytest.approx(10 / 17)
    # Bigrams: 2 shared ("the quick", "quick brown") of 7 and 8: F = 2*(2/7)(2/8)/((2/7)+(2/8)).
    assert got["rouge2"] == pytest.approx(4 / 15)


def test_identical_disjoint_and_empty() -> None:
    assert scores("Budget review moved", ["budget review moved"]) == {
        "rouge1": 1.0,
        "rouge2": 1.0,
        "rougeL": 1.0,
    }
    assert scores("alpha beta", ["gamma delta"]) == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    assert scores("", ["anything"])["rouge1"] == 0.0
    assert scores("anything", [])["rougeL"] == 0.0
    assert scores("one", ["one"])["rouge2"] == 0.0  # no bigram on either side


def test_best_reference_wins_per_measure() -> None:
    refs = ["dana moved the review", "the review moved to thursday afternoon"]
    got = scores("review moved to thursday", refs)
    # Against the second reference: 4 of 4 unigrams, 4 of 6 reference tokens: F = 0.8.
    assert got["rouge1"] == pytest.approx(0.8)
    assert got["rouge2"] == pytest.approx(2 * 1.0 * 0.6 / 1.6)  # 3/3 bigrams, 3 of 5


def test_counts_are_clipped_and_lcs_is_ordered() -> None:
    # "the" twice in the candidate, once in the reference: one match, not two.
    assert scores("the the cat", ["the cat"])["rouge1"] == pytest.approx(2 * (2 / 3) * 1 / (5 / 3))
    # Same words, reversed order: every unigram matches, the LCS is one word long.
    got = scores("c b a", ["a b c"])
    assert got["rouge1"] == 1.0
    assert got["rougeL"] == pytest.approx(1 / 3)


def test_tokens_are_lower_case_alphanumerics() -> None:
    assert tokens("Q3 budget-review, 40%!  Über") == ["q3", "budget", "review", "40", "ber"]
