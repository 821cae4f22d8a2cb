"""The search benchmark's tables, for the terminal and for docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.docs import replace_block
from bench.search.api import Imported
from bench.search.measure import Timing, Window, median, percentile
from bench.search.peer import Indexed

BEGIN = "<!-- bench.search:begin (written by `python -m bench.search --docs`) -->"
END = "<!-- bench.search:end -->"
SECTION = "## Search"
TARGET_P95_S = 0.025
NOISY_CORES = 0.1  # other processes' CPU above which a run is flagged as not clean


@dataclass(frozen=True)
class Results:
    date: datetime
    command: str
    machine: str
    sqlite: str
    notmuch: str
    xapian: str
    seed: int
    messages: int
    total_bytes: int
    folders: dict[str, int]
    mix: str
    generate_s: float
    indexed: Indexed
    imported: Imported
    rounds: int
    timings: list[Timing]  # the mix
    baseline: Timing  # a search that finds nothing
    window: Window
    settled_cores: float  # machine busy just before the rounds
    disk: dict[str, int]  # bytes: "postwise" (database), "blobs", "notmuch" (Xapian)

    @property
    def postwise_all(self) -> list[float]:
        return [s for t in self.timings for s in t.postwise_s]

    @property
    def comparable(self) -> list[Timing]:
        return [t for t in self.timings if t.comparable]

    @property
    def postwise_comparable(self) -> list[float]:
        return [s for t in self.comparable for s in t.postwise_s]

    @property
    def notmuch_comparable(self) -> list[float]:
        return [s for t in self.comparable for s in t.notmuch_s]

    @property
    def p95_pass(self) -> bool:
        return percentile(self.postwise_all, 0.95) <= TARGET_P95_S

    @property
    def ratio(self) -> float:
        """p95 Postwise ÷ p95 notmuch over the queries both can express."""
        return percentile(self.postwise_comparable, 0.95) / percentile(
            self.notmuch_comparable, 0.95
        )

    def empty(self) -> list[str]:
        """Queries that found nothing on either side: the mix was meant to find mail."""
        found = []
        for t in self.timings:
            if t.page is not None and t.page.items == 0:
                found.append(f"Postwise: {t.query.postwise}")
            if t.comparable and not t.notmuch_threads:
                found.append(f"notmuch: {t.query.notmuch}")
        return found


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _pair(values: Sequence[float]) -> str:
    return f"{_ms(percentile(values, 0.5))} / {_ms(percentile(values, 0.95))}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _without(values: Sequence[float], fixed: float) -> list[float]:
    return [max(0.0, v - fixed) for v in values]


def figures_table(r: Results) -> str:
    folders = ", ".join(f"{name} {count:,}" for name, count in sorted(r.folders.items()))
    n_cmp = len(r.comparable)
    left_out = ", ".join(_code(t.query.postwise) for t in r.timings if not t.comparable)
    pw_cmp, nm_cmp = r.postwise_comparable, r.notmuch_comparable
    rows = [
        "| figure | value | target | result |",
        "|---|---|---|---|",
        f"| mailbox (generated, seed {r.seed}) | {r.messages:,} messages, "
        f"{r.total_bytes / 1e6:,.0f} MB ({folders}) |  |  |",
        f"| queries | {len(r.timings)} ({n_cmp} that notmuch can express; not: {left_out}), "
        f"{r.rounds} rounds, one client, one request at a time |  |  |",
        f"| Postwise `GET /api/search` (page of 50), all {len(r.timings)} queries: p50 / p95 "
        f"| {_pair(r.postwise_all)} | p95 ≤ {TARGET_P95_S * 1000:.0f} ms "
        f"| {_verdict(r.p95_pass)} |",
        f"| Postwise, the {n_cmp} notmuch can express: p50 / p95 | {_pair(pw_cmp)} |  |  |",
        f"| `notmuch search --limit=50`, the same {n_cmp}: p50 / p95 (a process each) "
        f"| {_pair(nm_cmp)} |  |  |",
        f"| ratio p95 Postwise ÷ notmuch, same queries | {r.ratio:.2f}x | < 1 "
        f"| {_verdict(r.ratio < 1)} |",
    ]
    return "\n".join(rows)


def detail_table(r: Results) -> str:
    w = r.window
    pw_fixed = median(r.baseline.postwise_s)
    nm_fixed = median(r.baseline.notmuch_s)
    pw_work = _without(r.postwise_comparable, pw_fixed)
    nm_work = _without(r.notmuch_comparable, nm_fixed)
    others = "n/a" if w.others is None else f"{w.others:.2f}"
    rows = [
        "| detail | value |",
        "|---|---|",
        f"| a search that finds nothing (`{r.baseline.query.postwise}`), median: Postwise / "
        f"notmuch (fixed cost: HTTP, auth, query set-up / process start, opening the "
        f"database) | {_ms(pw_fixed)} / {_ms(nm_fixed)} |",
        f"| beyond that fixed cost, the {len(r.comparable)} comparable queries, p50 / p95: "
        f"Postwise | {_pair(pw_work)} |",
        f"| … notmuch | {_pair(nm_work)} |",
        f"| slowest single answer: Postwise / notmuch | {_ms(max(r.postwise_all))} / "
        f"{_ms(max(r.notmuch_comparable))} |",
        f"| CPU per search: Postwise server / notmuch process / bench client (per request) "
        f"| {w.server_cpu_s / w.requests * 1000:.2f} / "
        f"{w.notmuch_cpu_s / max(1, w.processes) * 1000:.2f} / "
        f"{w.bench_cpu_s / max(1, w.requests + w.processes) * 1000:.2f} ms |",
        f"| timed window: requests / notmuch runs / seconds | {w.requests:,} / "
        f"{w.processes:,} / {w.seconds:.1f} s |",
        f"| answers other than 200 in the window | {_statuses(w.statuses)} |",
        f"| other processes on the machine while timing (noise), cores | {others} "
        f"(before the rounds: {r.settled_cores:.2f}) |",
        f"| not timed: generating and writing the Maildir | {r.generate_s:.1f} s |",
        f"| not timed: `notmuch new` (index {r.indexed.messages:,} messages) | "
        f"{r.indexed.seconds:.1f} s ({r.indexed.cpu_s:.1f} CPU s) |",
        f"| not timed: `postwise import` (parse, store, thread, FTS5 index) | "
        f"{r.imported.seconds:.1f} s ({r.imported.cpu_s:.1f} CPU s) |",
        f"| on disk besides the Maildir: Postwise database (SQLite with FTS5) / its blobs / "
        f"notmuch's Xapian database | {r.disk.get('postwise', 0) / 1e6:,.0f} / "
        f"{r.disk.get('blobs', 0) / 1e6:,.0f} / {r.disk.get('notmuch', 0) / 1e6:,.0f} MB |",
        f"| mix of the mailbox | {r.mix} |",
    ]
    return "\n".join(rows)


def _statuses(statuses: dict[int, int]) -> str:
    if not statuses:
        return "none"
    return ", ".join(f"{count}x {status}" for status, count in sorted(statuses.items()))


def query_table(r: Results) -> str:
    rows = [
        "| query | Postwise `q` | notmuch query | notmuch finds: threads (messages) | "
        "Postwise first page | Postwise p50 / p95 | notmuch p50 / p95 | ÷ (medians) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in [*r.timings, r.baseline]:
        q = t.query
        page = "" if t.page is None else f"{t.page.items}{'+' if t.page.more else ''}"
        if q.notmuch is None:
            found, nm, ratio = "cannot express", "", ""
            nm_query = "—"
        else:
            found = f"{t.notmuch_threads or 0:,} ({t.notmuch_messages or 0:,})"
            nm = _pair(t.notmuch_s)
            ratio = f"{median(t.postwise_s) / median(t.notmuch_s):.2f}"
            nm_query = _code(q.notmuch)
        if q.messages is not None and q.notmuch is not None and q.messages != t.notmuch_messages:
            found += f" ≠ {q.messages:,} generated"
        elif q.messages is not None and q.notmuch is None:
            found += f" ({q.messages:,} generated)"
        rows.append(
            f"| {q.label} | {_code(q.postwise)} | {nm_query} | {found} | {page} | "
            f"{_pair(t.postwise_s)} | {nm} | {ratio} |"
        )
    return "\n".join(rows)


def noise_warning(r: Results) -> str | None:
    others = r.window.others
    if others is not None and others >= NOISY_CORES:
        return (
            f"NOT CLEAN: other processes used {others:.2f} cores while timing; "
            "rerun on a quiet machine."
        )
    return None


METHOD = """\
Method. The mailbox is bench/sync's generator (`Corpus(seed).mails(n)`: conversations across
INBOX and Sent, newsletters, notifications, mail with attachments, a third not ASCII, dated over
two years up to the day of the run), written once as a Maildir++ tree that both engines read.
notmuch (Debian's package) gets a private configuration (`NOTMUCH_CONFIG`; flags synchronised
from the Maildir, no excluded tags) and indexes it with `notmuch new`. Postwise gets a fresh
SQLite database with one user and imports the same Maildir with `postwise import` (the path
synced mail takes: parse, store, thread; the FTS5 index is kept by triggers), then runs as one
`postwise serve` (uvicorn, `POSTWISE_ENV=dev`) on a loopback port. The queries are chosen by
rules from a parsed sample of the generated mail (about 2,000 messages) so that each finds mail:
the most and least frequent words that recur, an order number, two words, two words that stand
together, the commonest sender and recipient, a subject word, flags, folders, a month, the last
30 days, a size, a negation, an OR and a four-operator query; the table shows each, its notmuch
equivalent (notmuch-search-terms(7): `tag:attachment`, `attachment:`, `tag:unread`,
`tag:flagged`, `folder:`, `date:@from..@to` with the same UTC instants, `and`/`or`/`not`;
notmuch's `to:` also looks at Cc and Bcc, and notmuch stems English words where FTS5 here does
not, so counts differ somewhat) and what notmuch finds. notmuch has no size search, so `larger:`
is in Postwise's figures but not in the comparison. After one warm-up pass (which also checks
every answer), each round runs every query once through HTTP and once through notmuch, back to
back. Postwise: `GET /api/search?q=…&limit=50` with a bearer token on one keep-alive connection
(a minimal HTTP/1.1 client, `bench/auth/rawhttp.py`), timed from sending the request to the
last byte of the answer. notmuch: `notmuch search --limit=50 -- <query>` (the default summary
output, newest first: a page of threads), timed from fork to exit with its output read, as any
program calling it waits; this includes starting the process and opening the database, shown
separately with a search for a word in no message on both sides, and taken off both in the
"beyond that fixed cost" rows. Percentiles are nearest-rank over every timed request of the mix.
Everything runs on the same cores; CPU figures come from /proc and rusage, and "other processes"
is the machine's busy time minus the server, the notmuch processes and the bench (a run where it
reaches 0.1 cores is flagged as not clean)."""


def render(r: Results) -> str:
    head = (
        f"Measured {r.date:%Y-%m-%d %H:%M} UTC on {r.machine}, SQLite {r.sqlite}, "
        f"notmuch {r.notmuch} (Xapian {r.xapian}), seed {r.seed}, with:\n\n"
        f"```sh\n{r.command}\n```"
    )
    parts = [head, figures_table(r), query_table(r), detail_table(r)]
    warning = noise_warning(r)
    if warning:
        parts.append(f"**{warning}**")
    empty = r.empty()
    if empty:
        parts.append("**Queries that found nothing:** " + "; ".join(_code(e) for e in empty))
    parts.append(METHOD)
    return "\n\n".join(parts)


def write_docs(path: Path, r: Results) -> None:
    block = f"{BEGIN}\n\n{render(r)}\n\n{END}"
    replace_block(path, section=SECTION, begin=BEGIN, end=END, block=block)
