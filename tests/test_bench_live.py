"""The thread-list and push benchmarks end to end on a small scale, so that `python -m
bench.mail` and `python -m bench.push` cannot rot: every request answers 200, every APPEND
reaches the socket, and the report rewrites only its own block of the docs."""

from __future__ import annotations

from pathlib import Path

from bench.mail import threads
from bench.push import run as push
from bench.soak import run as soak

from tests.fixtures.dovecot import require_dovecot


def test_thread_list_bench_pages_a_seeded_mailbox(tmp_path: Path) -> None:
    figures = threads.run(messages=600, clients=3, window_s=1.0, idle_s=0.5, pages=20)
    assert figures.errors == 0
    assert figures.threads > 100 and figures.idle and figures.loaded
    assert set(figures.floor_ms) == set(threads.FLOOR_ROUTES)
    assert all(ms > 0 for ms in figures.floor_ms.values())
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept\n")
    threads.write_docs(docs, threads.report(figures))
    threads.write_docs(docs, threads.report(figures))
    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n")
    assert text.count(threads.BEGIN) == 1 and text.count(threads.END) == 1


def test_push_bench_hears_every_append() -> None:
    require_dovecot()
    figures = push.run(3)
    assert figures.missed == 0 and len(figures.latencies) == 3
    assert all(0 < latency < 5 for latency in figures.latencies)
    # Every message was matched to the bare IDLE client's EXISTS for it.
    assert figures.unmatched == 0
    assert len(figures.server_share) == 3 and all(0 < s < 5 for s in figures.server_share)
    assert "**Postwise's share**" in push.report(figures, 3)


def test_soak_bench_samples_memory_through_a_short_round() -> None:
    plan = soak.Plan(
        rounds=1,
        load_s=2.0,
        idle_s=0.0,
        final_idle_s=1.0,
        sockets=5,
        clients=2,
        sample_s=1.0,
        login_share=0.02,
    )
    samples, rounds, marks = soak.run(plan, {})
    assert rounds[0].requests > 0 and rounds[0].errors == 0
    assert rounds[0].frames > 0  # the star/read actions reached the open sockets
    assert all(sample.rss_mb > 0 for sample in samples)
    assert marks["peak (VmHWM)"] >= marks["start"]
    text = soak.report(samples, rounds, marks, plan, "test")
    assert "| end of round 1 |" in text and "Verdict:" in text
