"""The web app in a real browser: first rows painted, opening threads, scrolling 100,000 threads,
and the inbox route's first-load JavaScript, against a real `postwise serve` on SQLite.

Targets (issue 13, on localhost): the first inbox rows within 1 s of navigation with 10,000
threads; opening a thread from the list within 300 ms at p95 over 20 opens; no long task over
50 ms while scrolling 100,000 threads (Chromium's Long Tasks API); at most 300 KB of gzipped
JavaScript loaded by the inbox route.

Mail is written straight into the database (bench.mail's `seed_mailbox`): one instance with a
mailbox of about 10,000 conversations for the navigation and open figures, then another with
100,000 for the scroll. The browser half is `measure.mjs`
(playwright-core driving Debian's chromium); this half seeds, serves, and prints the table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.auth.server import (
    Argon2Parameters,
    free_port,
    migrate,
    running_server,
    seed_users,
    server_environment,
)
from bench.docs import replace_block
from bench.mail.threads import EMAIL, PASSWORD, seed_mailbox

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "web" / "out"
MEASURE = Path(__file__).with_name("measure.mjs")
BEGIN = "<!-- bench.web:begin (written by `python -m bench.web --docs`) -->"
END = "<!-- bench.web:end -->"
# seed_mailbox writes threads of 1-8 messages, 2.75 on average.
MESSAGES_PER_THREAD = 2.75


@dataclass(frozen=True)
class Figures:
    small_threads: int
    large_threads: int
    cold_ms: float
    warm_ms: float
    opens: list[float]
    scroll_wheels: int
    rows_loaded: int | None
    long_tasks: list[float]
    first_load_js_gzip: int
    first_load_js_files: int


def first_load_javascript(out: Path = OUT) -> tuple[int, int]:
    """Gzipped bytes and file count of the scripts `out/index.html` (the inbox) loads: the
    static export's build report for that route. A `noModule` script (Next's polyfills for
    browsers without ES modules) is left out: no browser that runs the app downloads it."""
    html = (out / "index.html").read_text(encoding="utf-8")
    tags = re.findall(r"<script[^>]*>", html)
    sources = sorted(
        {
            match.group(1)
            for tag in tags
            if "nomodule" not in tag.lower() and (match := re.search(r'src="(/[^"]+\.js)"', tag))
        }
    )
    total = 0
    for source in sources:
        total += len(gzip.compress((out / source.lstrip("/")).read_bytes(), compresslevel=9))
    return total, len(sources)


def _measure(options: dict[str, object]) -> dict[str, object]:
    options = {"email": EMAIL, "password": PASSWORD, **options}
    result = subprocess.run(
        ["node", str(MEASURE), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"measure.mjs failed:\n{result.stdout}\n{result.stderr}")
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def _with_mailbox(
    threads: int, measure: Callable[[str], dict[str, object]]
) -> tuple[dict[str, object], int]:
    """A served instance whose one user has about `threads` conversations; `measure(url)`."""
    with tempfile.TemporaryDirectory(prefix="postwise-bench-web-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = server_environment(data_dir, port)
        migrate(env, data_dir / "server.log")
        password_hash = Argon2Parameters.server_defaults().hasher().hash(PASSWORD)
        seed_users(data_dir, [EMAIL], password_hash)
        seeded = seed_mailbox(data_dir, int(threads * MESSAGES_PER_THREAD), seed=1)
        with running_server(data_dir, env, port) as server:
            return measure(server.base_url), seeded


def run(small: int, large: int, opens: int, scroll_seconds: float) -> Figures:
    if not (OUT / "index.html").exists():
        raise SystemExit("web/out is missing: run `make web/out/index.html` first")
    js_bytes, js_files = first_load_javascript()
    # Two instances, each with one mailbox: seed_mailbox numbers messages from 1, so a second
    # mailbox cannot join the first one's database.
    opened, small_threads = _with_mailbox(
        small, lambda url: _measure({"url": url, "task": "open", "opens": opens})
    )
    scrolled, large_threads = _with_mailbox(
        large,
        lambda url: _measure({"url": url, "task": "scroll", "scrollSeconds": scroll_seconds}),
    )
    rows = scrolled.get("rowsLoaded")
    return Figures(
        small_threads=small_threads,
        large_threads=large_threads,
        cold_ms=float(opened["coldMs"]),  # type: ignore[arg-type]
        warm_ms=float(opened["warmMs"]),  # type: ignore[arg-type]
        opens=[float(v) for v in opened["opens"]],  # type: ignore[attr-defined]
        scroll_wheels=int(scrolled["wheels"]),  # type: ignore[call-overload]
        rows_loaded=int(rows) if isinstance(rows, int | float) else None,
        long_tasks=[float(v) for v in scrolled["longTasks"]],  # type: ignore[attr-defined]
        first_load_js_gzip=js_bytes,
        first_load_js_files=js_files,
    )


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(f: Figures) -> str:
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    worst = max(f.long_tasks, default=0.0)
    over = sum(1 for task in f.long_tasks if task > 50)
    loaded = f", {f.rows_loaded:,} rows loaded" if f.rows_loaded is not None else ""
    verdict = "met" if worst <= 50 else "missed"

    def mark(ok: bool) -> str:
        return "met" if ok else "missed"

    p95 = _percentile(f.opens, 0.95)
    lines = [
        f"Web app benchmark (headless chromium, 1280 x 900), {stamp}",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| first inbox rows after navigation, {f.small_threads:,} conversations: "
        f"returning / first visit | {f.warm_ms:.0f} ms / {f.cold_ms:.0f} ms | ≤ 1,000 ms "
        f"({mark(f.warm_ms <= 1000)}) |",
        f"| opening a thread from the list, p50 / p95 over {len(f.opens)} | "
        f"{_percentile(f.opens, 0.5):.0f} ms / {p95:.0f} ms | p95 ≤ 300 ms ({mark(p95 <= 300)}) |",
        f"| scrolling an inbox of {f.large_threads:,} conversations "
        f"({f.scroll_wheels} wheel steps{loaded}): longest task, tasks over 50 ms | "
        f"{worst:.0f} ms, {over} | none over 50 ms ({verdict}) |",
        f"| first-load JavaScript of the inbox route, gzipped ({f.first_load_js_files} files) | "
        f"{f.first_load_js_gzip / 1024:.0f} KB | ≤ 300 KB "
        f"({mark(f.first_load_js_gzip <= 300 * 1024)}) |",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--small", type=int, default=10_000, help="conversations, first mailbox")
    parser.add_argument("--large", type=int, default=100_000, help="conversations in all")
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--scroll-seconds", type=float, default=10.0)
    parser.add_argument("--docs", type=Path, help="update the Web app section of this file")
    args = parser.parse_args(argv)
    figures = run(args.small, args.large, args.opens, args.scroll_seconds)
    text = report(figures)
    print(text)
    if args.docs:
        command = "Command: `make bench-web` (`python -m bench.web --docs docs/benchmarks.md`)"
        block = f"{BEGIN}\n\n{command}\n\n{text}\n\n{END}"
        replace_block(args.docs, section="## Web app", begin=BEGIN, end=END, block=block)
    return 0
