"""The sync benchmark's pieces on a small mailbox, so that `python -m bench.sync` cannot rot:
the generator makes valid, varied mail; mbsync and Postwise both end with every message; the
report renders and rewrites only its own block of the docs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from bench.sync import engine, peer, server
from bench.sync.generate import Corpus, CorpusStats, generate
from bench.sync.report import BEGIN, END, Results, write_docs
from bench.sync.report import Corpus as CorpusFigures

from postwise.mime.parse import parse_message
from tests import services
from tests.fixtures.dovecot import Dovecot

COUNT = 50
FIRST = 10  # of the 50, fewer are in INBOX
END_DAY = datetime(2025, 6, 1, tzinfo=UTC)


def test_generator_is_deterministic_valid_and_varied() -> None:
    stats = CorpusStats()
    mails = list(Corpus(3, end=END_DAY).mails(COUNT, stats=stats))
    again = [m.raw for m in Corpus(3, end=END_DAY).mails(COUNT)]
    assert [m.raw for m in mails] == again
    assert [m.raw for m in Corpus(4, end=END_DAY).mails(COUNT)] != again

    assert stats.count == COUNT
    assert len(stats.kinds) >= 3
    assert {"INBOX", "Sent"} <= set(stats.folders)
    assert stats.replies > 0
    assert stats.non_ascii > 0
    assert 2_000 < stats.median_bytes < 20_000
    encodings: Counter[str] = Counter()
    for mail in mails:
        message = BytesParser(policy=policy.default).parsebytes(mail.raw)
        for part in message.walk():
            assert not part.defects, (mail.kind, part.defects)
            encodings[str(part.get("Content-Transfer-Encoding", "7bit")).lower()] += 1
        parsed = parse_message(mail.raw)
        assert parsed.parse_error is None
        assert parsed.subject
        assert parsed.text.strip()
        assert mail.received <= END_DAY.timestamp()
    assert {"quoted-printable", "base64"} <= set(encodings)


@pytest.fixture
def mbsync() -> str:
    return services.require_binary("mbsync", "mbsync")


async def test_mbsync_and_postwise_end_with_every_message(
    dovecot: Dovecot, mbsync: str, tmp_path: Path
) -> None:
    mailbox = server.new_mailbox(dovecot)
    stats = generate(mailbox.maildir, COUNT, seed=5, owner=server.owner())
    warmed = await asyncio.to_thread(server.warm, dovecot, mailbox)
    assert sum(warmed.folders.values()) == COUNT
    assert warmed.bodies == COUNT

    _, isync = server.versions()
    peer_run = await asyncio.to_thread(
        peer.run_mbsync, tmp_path / "mbsync", dovecot, mailbox, version=isync, expected=COUNT
    )
    assert peer_run.messages == COUNT
    # mbsync adds one header of its own (X-TUID) to each message it writes.
    assert 0 <= peer_run.bytes - stats.total_bytes <= 40 * COUNT

    settings = engine.settings_for(tmp_path / "postwise", parse_processes=2)
    await asyncio.to_thread(engine.migrate, settings)
    run = await engine.sync(settings, dovecot, mailbox, expected=COUNT, timeout_s=60, first=FIRST)
    assert run.messages == COUNT
    assert run.seconds is not None
    assert run.first_s is not None
    assert run.missing_phases == []  # the timers still find every step of the pipeline
    assert run.phases["fetch"] > 0
    assert run.phases["mime"] > 0
    assert run.calls["commit"] > 0

    # Stopping at the first screen: a second account on the same mailbox.
    first = engine.settings_for(tmp_path / "postwise-first", parse_processes=1)
    await asyncio.to_thread(engine.migrate, first)
    early = await engine.sync(first, dovecot, mailbox, expected=None, timeout_s=60, first=FIRST)
    assert early.seconds is None
    assert early.first_s is not None
    assert FIRST <= early.messages <= COUNT

    figures = CorpusFigures(
        count=stats.count,
        total_bytes=stats.total_bytes,
        median_bytes=stats.median_bytes,
        mean_bytes=stats.mean_bytes,
        p90_bytes=stats.p90_bytes,
        folders=dict(stats.folders),
        mix=stats.mix(),
        generate_s=0.1,
        warm_s=warmed.seconds,
    )
    results = Results(
        date=datetime.now(UTC),
        command=".venv/bin/python -m bench.sync --messages 50",
        machine="test",
        dovecot="2.3",
        isync=isync,
        sqlite="3",
        seed=5,
        corpus=figures,
        peer_runs=[peer_run, peer_run],
        full_runs=[run, dataclasses.replace(run, seconds=run.seconds * 2)],
        big=dataclasses.replace(figures, count=60),
        big_runs=[early],
    )
    assert results.full is run
    assert results.ratio == pytest.approx(1.5 * run.seconds / peer_run.seconds)
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Auth\n\nkept\n")
    write_docs(docs, results)
    write_docs(docs, results)
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\n## Auth\n\nkept\n\n## Mail sync\n\n" + BEGIN)
    assert text.count(BEGIN) == 1
    assert text.rstrip().endswith(END)
    assert "ratio Postwise ÷ mbsync, median of the rounds" in text
