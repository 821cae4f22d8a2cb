"""The compose benchmark end to end on a small scale (SQLite), so that `python -m bench.compose`
cannot rot: every message sent through the API reaches the SMTP recorder once, the figures are
sane, and the report rewrites only its own block of the docs."""

from __future__ import annotations

from pathlib import Path

from bench.compose import report
from bench.compose.phases import Plan
from bench.compose.recorder import message_id
from bench.compose.run import run

from tests.fixtures.dovecot import require_dovecot


def test_message_id_is_read_from_the_header_block_only() -> None:
    raw = b"Subject: x\r\nMessage-ID: <a.1@b.example>\r\n\r\nMessage-ID: <body@no>\r\n"
    assert message_id(raw) == "a.1@b.example"
    assert message_id(b"Subject: x\r\n\r\nMessage-ID: <body@no>\r\n") == ""


def test_compose_bench_delivers_every_message_once(tmp_path: Path) -> None:
    require_dovecot()
    plan = Plan(sends=5, interval_s=0.1, drain=5, concurrency=2, stall_s=15.0, quiet_s=0.5)
    result = run("sqlite", plan)
    latency, drain = result.latency.delivery, result.drain.delivery
    assert len(latency.sent) == 5 and latency.missing == 0 and latency.duplicates == 0
    assert all(0 < value < 10 for value in result.latency.latencies)
    assert len(drain.sent) == 5 and drain.missing == 0 and drain.duplicates == 0
    assert drain.connections_used >= 1 and drain.late == 0
    text = report.render([result], plan, (0.0, 0.0, 0.0))
    assert "| SQLite, jobs in `serve` | latency: sends received / sent | 5 / 5 |" in text
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept\n")
    report.write_docs(docs, text)
    report.write_docs(docs, text)
    written = docs.read_text()
    assert written.startswith("# Benchmarks\n\nkept\n")
    assert written.count(report.BEGIN) == 1 and written.count(report.END) == 1
