"""What the assistant's four measurements share: generated mail as the assistant sees it, CPU
readings, tables, and their block in docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.compose.report import percentile
from bench.docs import replace_block
from bench.sync.cli import _machine
from bench.sync.generate import Corpus, Mail
from postwise.ai.mailview import MailView, view_of_parsed
from postwise.ai.pool import TriagePool
from postwise.mime.parse import ParsedMessage, parse_message

SECTION = "## Assistant"
# Other processes using this much of the machine while a figure was measured make it noisy.
NOISE_CORES = 0.1
_STARTED = time.monotonic()
_TICKS = os.sysconf("SC_CLK_TCK")

__all__ = ["percentile"]


def step(message: str) -> None:
    """Progress on stderr, the tables alone on stdout."""
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    return _machine(os.cpu_count() or 1)


def process_cpu(pid: int) -> float | None:
    """User + system seconds of one process (all its threads), None once it is gone. One
    small read, cheap enough to sample every 0.1 s while something else is measured."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


_WARM = MailView(subject="warm", from_name="", from_address="a@example.test", text="warm")


async def start_triage_process(pool: TriagePool) -> int:
    """Start the pool's process (imports and the shipped models trained, as in a server that
    has triaged once) and say which process it is, to read its CPU."""
    await pool.triage([_WARM], now=datetime.now(UTC))
    executor = pool._executor()  # no public way to the pool's process
    assert executor is not None
    return await asyncio.get_running_loop().run_in_executor(executor, os.getpid)


@dataclass(frozen=True, slots=True)
class Sample:
    """A generated message, parsed, as the assistant sees it."""

    kind: str  # the generator's kind: conversation, attachment, newsletter, notification
    folder: str
    raw: bytes
    parsed: ParsedMessage
    view: MailView


def user_addresses(corpus: Corpus) -> frozenset[str]:
    return frozenset({corpus.user.address.lower()})


def samples(count: int, *, seed: int) -> list[Sample]:
    """`count` messages of bench.sync's generator (the mix of a real mailbox), parsed with
    Postwise's MIME parser and turned into the view every task reads."""
    corpus = Corpus(seed)
    own = user_addresses(corpus)
    found = []
    for mail in corpus.mails(count):
        parsed = parse_message(mail.raw)
        found.append(_sample(mail, parsed, own))
    return found


def _sample(mail: Mail, parsed: ParsedMessage, own: frozenset[str]) -> Sample:
    return Sample(
        mail.kind, mail.folder, mail.raw, parsed, view_of_parsed(parsed, user_addresses=own)
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def noise_note(others_cores: float | None, what: str) -> str | None:
    if others_cores is None or others_cores < NOISE_CORES:
        return None
    return (
        f"Other processes on this machine used {others_cores:.2f} cores while {what} ran: "
        "wall-clock figures are not clean (CPU figures are the process's own)."
    )


def markers(part: str) -> tuple[str, str]:
    return (
        f"<!-- bench.ai.{part}:begin (written by `python -m bench.ai {part} --docs`) -->",
        f"<!-- bench.ai.{part}:end -->",
    )


def docs_block(part: str, *, title: str, command: str, body: Sequence[str]) -> str:
    begin, end = markers(part)
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}"
    return "\n\n".join(
        [begin, f"### {title}", f"Measured {stamp}, with:", f"```sh\n{command}\n```", *body, end]
    )


def write_docs(path: Path, part: str, block: str) -> None:
    """Replace this part's block of the Assistant section (a missing one goes right under
    the heading); the other parts' blocks and any text around them are kept."""
    begin, end = markers(part)
    replace_block(path, section=SECTION, begin=begin, end=end, block=block)
