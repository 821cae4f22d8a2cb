"""The assistant's benchmark on a tiny scale, so that `python -m bench.ai` cannot rot: each part's
machinery runs end to end (triage in-process and through the pool; a sync with triage on whose
every message gets an insight; the backfill worker over a seeded mailbox; a re-sync with the
`openai` provider that makes no second request), the reports render, and the docs writer keeps
the parts in their order and the rest of the file alone."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest
from bench.ai import backfill, cache, common, sync, triage, worker
from bench.auth.server import free_port, server_environment
from bench.sync import engine, server
from bench.sync.generate import generate

from postwise.ai.tasks import BACKFILL_JOB
from postwise.worker.registry import Schedule, load_jobs, registry
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.openai_standin import (
    StandIn,
    openai_standin_fixture,  # noqa: F401
    openai_standin_server_fixture,  # noqa: F401
)


def test_triage_part_measures_and_reports(tmp_path: Path) -> None:
    figures = triage.run(triage.Plan(messages=40, rounds=2))
    assert figures.messages == 40
    assert sum(figures.kinds.values()) == 40
    assert sum(figures.categories.values()) == 40
    assert len(figures.rounds) == 2
    assert all(r.cpu_s > 0 and r.wall_s > 0 for r in figures.rounds)
    assert figures.per_core > 0
    assert figures.pool_wall_s > 0
    assert figures.pool_child_cpu_s > 0  # the work happened in the pool's process
    text = triage.report(figures)
    assert "msg/s per core" in text
    assert ("| PASS |" in text) or ("| MISS |" in text)

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Auth\n\nkept\n")
    block = triage.docs(figures, ".venv/bin/python -m bench.ai triage")
    other = common.docs_block("cache", title="Cache", command="c", body=["cache table"])
    # As the CLI writes: the last part first, each missing block under the heading.
    common.write_docs(docs, "cache", other)
    common.write_docs(docs, "triage", block)
    common.write_docs(docs, "triage", block)
    written = docs.read_text()
    assert written.startswith("# Benchmarks\n\n## Auth\n\nkept\n\n## Assistant\n\n")
    begin, end = common.markers("triage")
    assert written.count(begin) == 1
    assert written.count(end) == 1
    assert written.index(begin) < written.index(common.markers("cache")[0])
    assert "python -m bench.ai triage" in written


@pytest.fixture
def quick_backfill(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backfill's schedule every second instead of every 20 s (a mailbox's first mirror
    is left to it): the tests do not wait for its next run."""
    spec = load_jobs().jobs[BACKFILL_JOB]
    quick = dataclasses.replace(spec, schedule=Schedule(interval=1))
    monkeypatch.setitem(registry.jobs, BACKFILL_JOB, quick)


@pytest.mark.usefixtures("quick_backfill")
async def test_sync_with_triage_gives_every_message_an_insight(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    mailbox = server.new_mailbox(dovecot)
    generate(mailbox.maildir, 30, seed=5, owner=server.owner())
    await asyncio.to_thread(server.warm, dovecot, mailbox)
    # One parse "process": parsing in a thread, no pool to start (the figures' pool is the
    # triage pool here).
    settings = engine.settings_for(tmp_path / "postwise", parse_processes=1)
    await asyncio.to_thread(engine.migrate, settings)
    on = await sync.timed_sync(
        settings, dovecot, mailbox, expected=30, triage=True, triage_timeout_s=60
    )
    assert on.run.messages == 30
    assert on.triaged_s is not None
    assert on.triaged_s >= on.mirrored_s >= on.seconds
    assert on.insights == 30
    assert on.triage_cpu_total_s > 0  # the local provider ran in the pool's process
    halved = dataclasses.replace(on.run, seconds=on.seconds / 2)
    off = dataclasses.replace(on, triage=False, triaged_s=None, run=halved)
    corpus = sync.Corpus(30, 1, 1.0, 1.0, 1.0, {"INBOX": 30}, "mix", 0.0, 0.0)
    figures = sync.Figures(corpus, [off, on, on, off])
    assert figures.ratios == [2.0, 2.0]
    text = sync.report(figures)
    assert "| ratio on ÷ off, median of the rounds | 2.00x" in text
    assert "| MISS |" in text
    assert "after the sync's end" in text


def test_backfill_worker_triages_the_seeded_mailbox(tmp_path: Path) -> None:
    env = {**server_environment(tmp_path, free_port()), "POSTWISE_AI_TRIAGE": "false"}
    plan = backfill.Plan(messages=150, contents=40)
    threads, _ = backfill.prepare(tmp_path, env, plan)
    assert 0 < threads <= 150
    db = sqlite3.connect(tmp_path / "postwise.db")
    try:
        bodies = db.execute("SELECT count(DISTINCT body_text) FROM messages").fetchone()[0]
        assert bodies > 20  # the generated contents, not bench.mail's empty bodies
        # In a thread, not a pool's process: starting one (imports, training) is the
        # slowest step, and the triage part's test covers the pool.
        result = asyncio.run(worker.backfill_all(tmp_path, wait_for_go=False, processes=0))
        assert result["messages"] == 150
        assert result["runs"] >= 1
        assert db.execute("SELECT count(*) FROM message_insights").fetchone()[0] == 150
        # The index's update trigger was put back.
        triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
        assert "message_search_update" in triggers
    finally:
        db.close()


def test_backfill_tells_requests_during_runs_from_the_others() -> None:
    stamped = backfill._Stamped()
    for latency in (0.01, 0.02, 0.03):
        stamped.append(latency)
    inside, outside = stamped.split([(stamped.starts[1] - 1e-9, stamped.starts[1] + 1e-9)])
    assert inside == [0.02]
    assert outside == [0.01, 0.03]

    samples = [(0.0, 0), (0.25, 100), (0.5, 100), (0.75, 200), (5.0, 200), (5.25, 300)]
    assert backfill.active_spans(samples) == [(0.0, 0.75), (5.0, 5.25)]


@pytest.mark.usefixtures("quick_backfill")
def test_resync_with_the_openai_provider_makes_no_second_request(
    dovecot: Dovecot, openai_standin: StandIn, tmp_path: Path
) -> None:
    plan = cache.Plan(messages=12, seed=4, timeout_s=40)
    figures = cache.measure(dovecot, openai_standin, plan, tmp_path)
    first, second = figures.passes
    assert first.requests >= 12
    assert first.triaged == first.remote == 12
    assert second.triaged == second.remote == 12
    assert second.requests == 0
    assert second.cache_hits == 12
    assert cache.passed(figures)
    assert "| PASS |" in cache.report(figures)
