"""The dashboard benchmark's report and docs block, so `python -m bench.dashboard` cannot rot
between runs: the verdict follows the p95 of the default window, and the docs keep everything
outside the benchmark's own block."""

from __future__ import annotations

from pathlib import Path

from bench.dashboard.run import BEGIN, END, Run, Timing, percentile, report, write_docs


def timing(days: int, milliseconds: list[float]) -> Timing:
    return Timing(
        backend="sqlite",
        days=days,
        latencies=[ms / 1000 for ms in milliseconds],
        body_bytes=4096,
        server_cpu_ms=12.5,
        received=1204,
        sent=312,
        waiting=7,
    )


def test_the_verdict_is_the_p95_of_the_default_window() -> None:
    fast = Run("sqlite", 100_000, 9.5, [timing(30, [20.0] * 94 + [90.0] * 6), timing(90, [400.0])])
    slow = Run("postgres", 100_000, 9.5, [timing(30, [20.0] * 90 + [150.0] * 10)])
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    text = report([fast, slow], (0.1, 0.2, 0.3))
    lines = text.splitlines()
    assert "| sqlite | 30 days | 20.0 ms | 90.0 ms | 90.0 ms | < 100 ms | PASS | 12.5 ms |" in text
    assert "| postgres | 30 days | 20.0 ms | 150.0 ms | 150.0 ms | < 100 ms | MISS |" in text
    # The largest window is shown, not judged.
    (largest,) = [line for line in lines if line.startswith("| sqlite | 90 days | 400.0 ms")]
    assert "PASS" not in largest and "MISS" not in largest
    assert "1,204 received, 312 sent, 7 waiting; 4.0 KB" in text


def test_the_docs_block_is_replaced_in_place(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    write_docs(docs, "first")
    assert docs.read_text().count("## Dashboard") == 1
    docs.write_text(docs.read_text() + "\n## Later\n\nalso kept\n")
    write_docs(docs, "second")
    content = docs.read_text()
    assert "first" not in content and "second" in content
    assert content.count(BEGIN) == content.count(END) == 1
    assert "kept\n" in content and "also kept" in content
