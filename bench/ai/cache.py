"""A re-sync never pays twice: with the `openai` provider pointed at the test suite's local
OpenAI-compatible stand-in, a generated mailbox is synced from Dovecot and triaged (one chat
completion a message), then the runtime is closed and opened again (a restart: nothing is left
in memory) and the same mailbox is synced into a second account, whose messages are triaged
again. Every request the stand-in receives is counted: the second pass must make none, its
answers coming from the cache (content hash, task, provider, model, prompt version).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from tests.fixtures import openai_standin
from tests.fixtures.dovecot import DOVECOT, Dovecot
from tests.fixtures.openai_standin import StandIn

from bench.ai.common import docs_block, step, table, verdict
from bench.ai.sync import timed_sync
from bench.sync import engine, server
from bench.sync.generate import generate
from bench.sync.server import BenchError
from postwise.config import Settings


@dataclass(frozen=True)
class Plan:
    messages: int = 300
    seed: int = 3
    timeout_s: float = 300.0  # for the sync, and again for its triage


@dataclass(frozen=True)
class Pass:
    label: str
    triaged: int  # insights written by this pass
    remote: int  # … of which the remote provider answered (a cache hit counts)
    requests: int  # chat completions the stand-in received
    calls: int  # remote calls and cache hits as usage accounting counted them
    cache_hits: int
    seconds: float  # from the sync's start until every message had its insight


@dataclass(frozen=True)
class Figures:
    messages: int
    passes: list[Pass]


def settings_for(data_dir: Path, standin: StandIn) -> Settings:
    """bench.sync's settings with the `openai` provider on the stand-in (a budget no run
    reaches: the local provider would answer past it, and make no request)."""
    base = engine.settings_for(data_dir, parse_processes=1)
    return base.model_copy(
        update={
            "ai_provider": "openai",
            "openai_base_url": standin.url,
            "openai_api_key": SecretStr("bench-key"),
            "openai_model": "bench-model",
            "ai_daily_budget_usd": 1000.0,
        }
    )


def _totals(path: Path) -> tuple[int, int, int, int]:
    """(insights, of them by the remote provider, usage calls, usage cache hits)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        insights = db.execute("SELECT count(*) FROM message_insights").fetchone()[0]
        remote = db.execute(
            "SELECT count(*) FROM message_insights WHERE provider = 'openai'"
        ).fetchone()[0]
        calls, hits = db.execute(
            "SELECT coalesce(sum(calls), 0), coalesce(sum(cache_hits), 0) FROM ai_usage"
        ).fetchone()
    return int(insights), int(remote), int(calls), int(hits)


def measure(dovecot: Dovecot, standin: StandIn, plan: Plan, root: Path) -> Figures:
    mailbox = server.new_mailbox(dovecot)
    generate(mailbox.maildir, plan.messages, seed=plan.seed, owner=server.owner())
    server.warm(dovecot, mailbox)
    settings = settings_for(root / "postwise", standin)
    engine.migrate(settings)
    path = settings.data_dir / "postwise.db"
    passes = []
    labels = ("first sync", "re-sync into a second account, after a restart")
    for number, label in enumerate(labels, start=1):
        step(f"{label}: sync and triage with the openai provider")
        before, requests = _totals(path), len(standin.chats())
        run = asyncio.run(
            timed_sync(
                settings,
                dovecot,
                mailbox,
                expected=plan.messages * number,
                triage=True,
                timeout_s=plan.timeout_s,
                triage_timeout_s=plan.timeout_s,
                local_pool=False,
            )
        )
        after = _totals(path)
        passes.append(
            Pass(
                label=label,
                triaged=after[0] - before[0],
                remote=after[1] - before[1],
                requests=len(standin.chats()) - requests,
                calls=after[2] - before[2],
                cache_hits=after[3] - before[3],
                seconds=run.triaged_s if run.triaged_s is not None else float("nan"),
            )
        )
    return Figures(messages=plan.messages, passes=passes)


def run(plan: Plan) -> Figures:
    if not Path(DOVECOT).exists():
        raise BenchError(f"{DOVECOT} is missing (scripts/services.sh dovecot)")
    root = Path(tempfile.mkdtemp(prefix="postwise-bench-ai-cache-"))
    root.chmod(0o755)  # Dovecot's mail processes run as another user
    dovecot: Dovecot | None = None
    running = openai_standin.start()
    try:
        dovecot = server.start(root / "dovecot")
        began = time.monotonic()
        figures = measure(dovecot, running.standin, plan, root)
        step(f"cache: {time.monotonic() - began:.1f} s")
        return figures
    finally:
        openai_standin.stop(running)
        if dovecot is not None:
            dovecot.stop()
        server.remove_tree(root)


def passed(f: Figures) -> bool:
    first, second = f.passes
    return (
        first.requests > 0
        and first.remote == first.triaged == f.messages
        and second.triaged == f.messages
        and second.requests == 0
        and second.remote == f.messages
    )


def report(f: Figures) -> str:
    first, second = f.passes
    rows = [
        ("mailbox (bench.sync's generator, served by Dovecot)", f"{f.messages:,} messages", "", ""),
    ]
    for p in (first, second):
        rows.append(
            (
                f"{p.label}: requests to the stand-in / messages triaged (by the remote "
                "provider) / remote calls + cache hits counted",
                f"{p.requests:,} / {p.triaged:,} ({p.remote:,}) / {p.calls:,} + {p.cache_hits:,}",
                "no request" if p is second else "",
                verdict(passed(f)) if p is second else "",
            )
        )
        done = "… from the sync's start until every message had its insight"
        rows.append((done, f"{p.seconds:.1f} s", "", ""))
    return table(("figure", "value", "target", "result"), rows)


METHOD = """\
Method. The test suite's OpenAI-compatible stand-in (`tests/fixtures/openai_standin.py`: a real
HTTP server on loopback that answers chat completions with JSON valid for the requested schema
and records every request) is the `openai` provider's server (`POSTWISE_AI_PROVIDER=openai`,
`POSTWISE_OPENAI_BASE_URL`). A mailbox from bench.sync's generator is served by Dovecot and
synced into a fresh database inside `open_runtime` with the sync context's job queue, as in the
sync measurement above, so each batch's `ai.triage` job asks the remote provider once per
message; the run waits until every message has its insight. Then the runtime is closed (the
assistant, its in-flight table and its HTTP clients gone) and opened again, and the same
mailbox is synced into a second user's account (the same address, so the same content as the
assistant sees it). The stand-in's requests are counted between the passes, and the usage
table's remote calls and cache hits are read from the database."""


def docs(f: Figures, command: str) -> str:
    return docs_block(
        "cache", title="A re-sync makes no second call", command=command, body=[report(f), METHOD]
    )
