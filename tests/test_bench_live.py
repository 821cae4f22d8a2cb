"""The thread-list and push benchmarks end to end on a small scale, so that `python -m
bench.mail` and `python -m bench.push` cannot rot: every request answers 200, every APPEND
reaches the socket, and the report rewrites only its own block of the docs."""

from __future__ import annotations

from pathlib import Path

from bench.mail import threads
from bench.push import run as push

from tests.fixtures.dovecot import require_dovecot


def test_thread_list_bench_pages_a_seeded_mailbox(tmp_path: Path) -> None:
    figures = threads.run(messages=600, clients=3, window_s=1.0)
    assert figures.errors == 0
    assert figures.threads > 100 and figures.idle and figures.loaded
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
    assert "| … p95 |" in push.report(figures, 3)
