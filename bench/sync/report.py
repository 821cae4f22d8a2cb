"""The figures of one run: markdown tables on stdout and the same in docs/benchmarks.md."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from bench.docs import replace_block
from bench.sync.engine import FIRST, THREAD_KINDS, EngineRun
from bench.sync.peer import PeerRun
from bench.sync.phases import PHASES

R = TypeVar("R", PeerRun, EngineRun)

RATIO_TARGET = 2.0  # Postwise's full sync ÷ mbsync's, same mailbox, same run
FIRST_TARGET_S = 2.0  # first screen of the inbox
NOISE_CORES = 0.1  # CPU used by other processes beyond which a run is flagged

BEGIN = "<!-- bench.sync:begin (written by `python -m bench.sync --docs`) -->"
END = "<!-- bench.sync:end -->"
SECTION = "## Mail sync"


@dataclass(frozen=True)
class Corpus:
    count: int
    total_bytes: int
    median_bytes: float
    mean_bytes: float
    p90_bytes: float
    folders: dict[str, int]
    mix: str
    generate_s: float
    warm_s: float

    def describe(self) -> str:
        folders = ", ".join(f"{name} {n:,}" for name, n in sorted(self.folders.items()))
        return (
            f"{self.count:,} messages, {self.total_bytes / 1e6:.0f} MB: median "
            f"{self.median_bytes / 1000:.1f} KB, mean {self.mean_bytes / 1000:.1f} KB, "
            f"p90 {self.p90_bytes / 1000:.0f} KB ({folders})"
        )


@dataclass(frozen=True)
class Results:
    date: datetime
    command: str
    machine: str
    dovecot: str
    isync: str
    sqlite: str
    seed: int
    corpus: Corpus
    peer_runs: list[PeerRun]  # one per round, in order
    full_runs: list[EngineRun]
    big: Corpus | None
    big_runs: list[EngineRun]

    @property
    def rounds(self) -> int:
        return len(self.full_runs)

    @property
    def peer(self) -> PeerRun:
        """The median mbsync run (by wall time)."""
        return _median_run(self.peer_runs, lambda run: run.seconds)

    @property
    def full(self) -> EngineRun:
        """The median Postwise run (by wall time): its phases and CPU are shown."""
        return _median_run(self.full_runs, _seconds)

    @property
    def big_run(self) -> EngineRun | None:
        if not self.big_runs:
            return None
        return _median_run(self.big_runs, lambda run: run.first_s or 0.0)

    @property
    def full_s(self) -> float:
        return _seconds(self.full)

    @property
    def ratios(self) -> list[float]:
        """Postwise ÷ mbsync of each round (the two ran one after the other)."""
        return [
            _seconds(full) / peer.seconds
            for full, peer in zip(self.full_runs, self.peer_runs, strict=True)
        ]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def first_s(self) -> float | None:
        values = [run.first_s for run in self.full_runs if run.first_s is not None]
        return statistics.median(values) if values else None


def _seconds(run: EngineRun) -> float:
    assert run.seconds is not None
    return run.seconds


def _median_run(runs: Sequence[R], key: Callable[[R], float]) -> R:
    return sorted(runs, key=key)[(len(runs) - 1) // 2]


def _spread(values: Sequence[float], unit: str) -> str:
    if len(values) < 2:
        return ""
    return f" (rounds: {', '.join(f'{v:.2f}{unit}' for v in values)})"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _rate(count: int, seconds: float, size: int) -> str:
    return f"{seconds:.2f} s ({count / seconds:,.0f} msg/s, {size / 1e6 / seconds:.1f} MB/s)"


def figures_table(r: Results) -> str:
    c = r.corpus
    median = f", median of {r.rounds} rounds" if r.rounds > 1 else ""
    rows = [
        ("mailbox (generated, served by Dovecot)", c.describe(), "", ""),
        (
            f"`mbsync -a` (isync {r.isync}, default settings): every folder into a Maildir{median}",
            _rate(r.peer.messages, r.peer.seconds, c.total_bytes)
            + _spread([p.seconds for p in r.peer_runs], " s"),
            "",
            "",
        ),
        (
            "Postwise full initial sync: download, parse, store, index, thread "
            f"({r.full.parse_processes} parse processes, batches of {r.full.batch_size}){median}",
            _rate(r.full.messages, r.full_s, c.total_bytes)
            + _spread([_seconds(f) for f in r.full_runs], " s"),
            "",
            "",
        ),
        (
            f"ratio Postwise ÷ mbsync{', median of the rounds' if r.rounds > 1 else ''}",
            f"{r.ratio:.2f}x" + _spread(r.ratios, "x"),
            f"≤ {RATIO_TARGET:g}x",
            _verdict(r.ratio <= RATIO_TARGET),
        ),
    ]
    first = r.first_s
    if first is not None:
        rows.append(
            (
                f"first {FIRST} inbox messages in the database, {c.count:,}-message mailbox"
                f"{median}",
                f"{first:.2f} s"
                + _spread([f.first_s for f in r.full_runs if f.first_s is not None], " s"),
                f"≤ {FIRST_TARGET_S:g} s",
                _verdict(first <= FIRST_TARGET_S),
            )
        )
    big = r.big_run
    if r.big is not None and big is not None and big.first_s is not None:
        rows.append(
            (
                f"first {FIRST} inbox messages in the database, {r.big.count:,}-message INBOX"
                f"{median}",
                f"{big.first_s:.2f} s"
                + _spread([b.first_s for b in r.big_runs if b.first_s is not None], " s"),
                f"≤ {FIRST_TARGET_S:g} s",
                _verdict(big.first_s <= FIRST_TARGET_S),
            )
        )
    return _table(("figure", "value", "target", "result"), rows)


def _cores(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def detail_table(r: Results) -> str:
    f, p = r.full, r.peer
    postwise_cpu = f.main_cpu_s + f.pool_cpu_s
    rows = [
        ("mix", r.corpus.mix),
        (
            "CPU s of the median runs: mbsync / Dovecot serving it",
            f"{p.cpu_s:.2f} / {p.dovecot_cpu_s:.2f} (wall {p.seconds:.2f} s)",
        ),
        (
            f"CPU s: Postwise process / its {f.parse_processes} parse processes / Dovecot "
            "serving it",
            f"{f.main_cpu_s:.2f} / {f.pool_cpu_s:.2f} / {f.dovecot_cpu_s:.2f} "
            f"(wall {r.full_s:.2f} s)",
        ),
        (
            "… of the Postwise process, by thread: "
            + " / ".join(THREAD_KINDS[k] for k in THREAD_KINDS if k != "other"),
            " / ".join(f"{f.thread_cpu.get(k, 0.0):.2f}" for k in THREAD_KINDS if k != "other"),
        ),
        (
            "CPU per message: mbsync / Postwise (all its processes)",
            f"{p.cpu_s / p.messages * 1000:.2f} / {postwise_cpu / f.messages * 1000:.2f} ms",
        ),
        (
            "other processes on the machine while mbsync / Postwise ran (noise, worst round), "
            "cores",
            f"{_cores(_worst(r.peer_runs))} / {_cores(_worst(r.full_runs))}",
        ),
        (
            "not timed: generating the mailbox / warming Dovecot",
            f"{r.corpus.generate_s:.1f} s / {r.corpus.warm_s:.1f} s",
        ),
    ]
    if r.big is not None and r.big_runs:
        rows.append(
            (
                f"{r.big.count:,}-message INBOX (not timed: generating / warming)",
                f"{r.big.total_bytes / 1e6:,.0f} MB, median {r.big.median_bytes / 1000:.1f} KB "
                f"({r.big.generate_s:.1f} s / {r.big.warm_s:.1f} s)",
            )
        )
    return _table(("detail", "value"), rows)


def phase_table(run: EngineRun, seconds: float, title: str) -> str:
    rows = []
    covered = cpu_covered = 0.0
    for key, description in PHASES.items():
        value, cpu = run.phases.get(key, 0.0), run.phase_cpu.get(key, 0.0)
        covered += value
        cpu_covered += cpu
        cpu_text = f"{cpu:.2f}"
        if key == "mime":
            cpu_text += f" (+ {run.pool_cpu_s:.2f} in the parse processes)"
        rows.append(
            (description, f"{value:.2f}", f"{value / seconds:.0%}", cpu_text, str(run.calls[key]))
        )
    rest_cpu = f"{max(0.0, run.main_cpu_s - cpu_covered):.2f}"
    if covered <= seconds:
        rows.append(
            (
                "other: login, folder list, state commits, waiting; CPU: SQLite's and the "
                "executors' threads, the loop between steps",
                f"{seconds - covered:.2f}",
                f"{(seconds - covered) / seconds:.0%}",
                rest_cpu,
                "",
            )
        )
    else:
        rows.append(
            (
                f"steps overlap (pipelined): their busy time adds up to {covered:.2f} s; CPU: "
                "SQLite's and the executors' threads, the loop between steps",
                "",
                "",
                rest_cpu,
                "",
            )
        )
    rows.append(
        (
            "**total**",
            f"**{seconds:.2f}**",
            "100%",
            f"{run.main_cpu_s:.2f} + {run.pool_cpu_s:.2f}",
            "",
        )
    )
    table = _table((title, "busy s", "of wall", "CPU s", "calls"), rows)
    if run.missing_phases:
        table += f"\n\n(not timed, not found in the engine: {', '.join(run.missing_phases)})"
    return table


def _worst(runs: Sequence[PeerRun] | Sequence[EngineRun]) -> float | None:
    values = [x for x in (run.others for run in runs) if x is not None]
    return max(values) if values else None


def noise_warning(r: Results) -> str | None:
    noisy = [
        f"{others:.2f} cores while {what} ran"
        for what, others in (("mbsync", _worst(r.peer_runs)), ("Postwise", _worst(r.full_runs)))
        if others is not None and others >= NOISE_CORES
    ]
    if not noisy:
        return None
    return (
        f"WARNING: other processes on this machine used {' and '.join(noisy)}: "
        "these figures are not clean; rerun on a quiet machine."
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


METHOD = """\
Method. One private Dovecot (the test suite's configuration: plain IMAP on a free loopback
port, Maildir++) serves a mailbox generated by `bench/sync/generate.py` from a fixed seed: a
mix like real inboxes (conversations in threads across INBOX and Sent that quote what came
before, HTML newsletters of 10-60 KB, notifications, mail with PDF, image and office
attachments; RFC 2047 headers, UTF-8 and ISO-8859-1 bodies, quoted-printable and base64; the
headers servers add), dated over two years up to the day of the run, and written directly as
Maildir files (arrival time as mtime). The files are flushed to disk (`sync`), then Dovecot is
warmed: every folder opened, `UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)`, the
searches Postwise makes, and every body fetched once, so both contenders find built indexes
and a warm page cache. Then, in the same run, on the same mailbox, the two take turns (three
rounds by default, each starting from an empty Maildir and a fresh database; shown: medians, the
ratio is the median of the rounds' ratios, the CPU and phase tables are the median Postwise
run's): `mbsync -a` with a minimal configuration (server, login, `SSLType None`, a Maildir store,
`Patterns *`, `Create Near`; everything else is isync's default, which includes pipelining and
an fsync per message), timed from start to exit, and Postwise's sync engine (`MailboxSync`,
the code a worker runs for a newly connected mailbox) on a fresh, migrated SQLite database
(`POSTWISE_ENV=test`, blobs made durable as in production, the MIME process pool started and warm
as in a running server, a sync window of 3650 days so that the initial sync is the window
pass), timed from the task's start until a read-only connection polling every 50 ms sees
every message in the database. Both must end with exactly as many messages as were generated.
"First 50" is the time from the task's start until 50 INBOX messages are in the database, in
the same full run and on a separate, larger INBOX (generated and warmed the same way except
that only the newest 1,000 bodies are fetched while warming; the sync is stopped after the
first 50). Postwise's steps are timed by wrappers put around the engine's functions for the
measurement: busy wall time per step (exclusive of the steps it calls) and CPU of the thread it
ran on; with the pipeline, steps of consecutive batches overlap. CPU figures come from /proc
(per process, and per thread of Postwise's process) and the child's rusage; "other processes"
is the machine's busy time minus the contender and Dovecot, and a run where it reaches
0.1 cores is flagged as not clean. Everything (Dovecot, mbsync, Postwise and its
parse processes) runs on the same cores."""


def docs_block(r: Results) -> str:
    return "\n\n".join(
        [
            BEGIN,
            f"Measured {r.date:%Y-%m-%d %H:%M} UTC on {r.machine}, Dovecot {r.dovecot}, "
            f"isync {r.isync}, SQLite {r.sqlite}, seed {r.seed}, with:",
            f"```sh\n{r.command}\n```",
            figures_table(r),
            detail_table(r),
            phase_table(r.full, r.full_s, f"where Postwise's {r.full_s:.1f} s went"),
            *([warning] if (warning := noise_warning(r)) else []),
            METHOD,
            END,
        ]
    )


def write_docs(path: Path, r: Results) -> None:
    """Replace the generated block of the "Mail sync" section; text outside it is kept."""
    replace_block(path, section=SECTION, begin=BEGIN, end=END, block=docs_block(r))
