"""The search benchmark's pieces on a small mailbox, so that `python -m bench.search` cannot rot:
the mix is stable and valid Postwise syntax, each notmuch translation finds the mail the
generator wrote, and the report rewrites only its own block of the docs."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bench.search import peer
from bench.search.api import Imported, Page
from bench.search.corpus import Facts, write_corpus
from bench.search.measure import Timing, Window, percentile
from bench.search.queries import NOTHING, Query, baseline, build_mix
from bench.search.report import BEGIN, END, Results, write_docs

from postwise.search.query import parse_query

COUNT = 400
END_DAY = datetime(2025, 6, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Facts]:
    mail = tmp_path_factory.mktemp("bench-search") / "mail"
    return mail, write_corpus(mail, COUNT, seed=2, end=END_DAY)


def test_the_mix_is_stable_valid_and_varied(corpus: tuple[Path, Facts]) -> None:
    mail, facts = corpus
    assert facts.count == COUNT
    assert sum(1 for _ in mail.rglob("cur/*")) == COUNT
    mix = build_mix(facts, now=NOW)
    assert mix == build_mix(facts, now=NOW)
    assert len(mix) >= 18
    assert len({q.label for q in mix}) == len(mix)
    for query in mix:
        parse_query(query.postwise, now=NOW)  # raises on a query Postwise would refuse (422)
    # notmuch has no size search; everything else has a translation.
    assert [q.postwise.split(":")[0] for q in mix if q.notmuch is None] == ["larger"]
    envelope_counts = [q.messages for q in mix if q.messages is not None]
    assert envelope_counts
    assert all(n > 0 for n in envelope_counts)
    assert baseline().postwise == NOTHING


def test_notmuch_finds_what_was_generated(corpus: tuple[Path, Facts], tmp_path: Path) -> None:
    if shutil.which(peer.NOTMUCH) is None:
        pytest.skip("notmuch is not installed (scripts/services.sh notmuch)")
    mail, facts = corpus
    nm = peer.setup(tmp_path / "notmuch", mail, user=facts.user)
    indexed = peer.index(nm, expected=COUNT)
    assert indexed.messages == COUNT
    for query in build_mix(facts, now=NOW):
        if query.notmuch is None:
            continue
        messages = peer.count(nm, query.notmuch)
        assert messages > 0, query
        if query.messages is not None:  # the translation means what the Postwise query means
            assert messages == query.messages, query
        seconds, lines = peer.search(nm, nm.search_argv(query.notmuch))
        assert 0 < lines <= peer.PAGE
        assert seconds > 0
    assert peer.count(nm, NOTHING) == 0
    notmuch_version, _xapian = peer.versions()
    assert notmuch_version[0].isdigit()


def _timing(query: Query, postwise_ms: float, notmuch_ms: float) -> Timing:
    timing = Timing(query, page=Page(items=50, more=True), notmuch_threads=70)
    timing.notmuch_messages = query.messages if query.messages is not None else 90
    timing.postwise_s = [postwise_ms / 1000 * (1 + i / 10) for i in range(10)]
    if query.notmuch is not None:
        timing.notmuch_s = [notmuch_ms / 1000 * (1 + i / 10) for i in range(10)]
    return timing


def test_report_judges_and_rewrites_only_its_block(
    corpus: tuple[Path, Facts], tmp_path: Path
) -> None:
    _mail, facts = corpus
    timings = [_timing(q, 5.0, 9.0) for q in build_mix(facts, now=NOW)]
    window = Window(
        seconds=4.0,
        requests=200,
        processes=190,
        server_cpu_s=1.0,
        notmuch_cpu_s=1.5,
        bench_cpu_s=0.1,
        machine_busy_s=2.7,
        statuses={},
    )
    results = Results(
        date=datetime.now(UTC),
        command=".venv/bin/python -m bench.search --messages 400",
        machine="test",
        sqlite="3",
        notmuch="0.37",
        xapian="1.4",
        seed=2,
        messages=facts.count,
        total_bytes=facts.stats.total_bytes,
        folders=dict(Counter(e.folder for e in facts.envelopes)),
        mix=facts.stats.mix(),
        generate_s=0.5,
        indexed=peer.Indexed(seconds=1.0, cpu_s=1.0, messages=COUNT),
        imported=Imported(seconds=2.0, cpu_s=2.0, messages=COUNT),
        rounds=10,
        timings=timings,
        baseline=_timing(baseline(), 2.0, 4.0),
        window=window,
        settled_cores=0.01,
        disk={"postwise": 10_000_000, "blobs": 20_000_000, "notmuch": 9_000_000},
    )
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert results.p95_pass
    assert results.ratio == pytest.approx(5 / 9)
    assert results.empty() == []
    assert window.others == pytest.approx(0.025)

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Auth\n\nkept\n")
    write_docs(docs, results)
    write_docs(docs, results)
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\n## Auth\n\nkept\n\n## Search\n\n" + BEGIN)
    assert text.count(BEGIN) == 1
    assert text.rstrip().endswith(END)
    assert "ratio p95 Postwise ÷ notmuch, same queries | 0.56x | < 1 | PASS |" in text
    assert "cannot express" in text
