"""Prometheus metrics: every family Postwise exports, in a registry per app.

One process (tests, `serve --workers 1`, `postwise worker`): each `Metrics` has its own registry,
so several apps in one test process never collide. Several API processes (`serve --workers N`):
`serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start, prometheus-client then keeps
every value in per-process files there, and `render` merges them (MultiProcessCollector), so
counters add up whichever process answers the scrape.

Labels are bounded on purpose (route templates, job names, enum values, stable error codes):
never a user id, an address or a host.

Gauges read from storage (mailboxes by state, active sessions, jobs waiting) are not kept in
prometheus-client's values at all: `Snapshot` holds the last reading, refreshed at scrape time
(`observability.scrape`), and `_ScrapeCollector` reports it. That way the same numbers are
reported once, by the answering process, instead of once per process.
"""

from __future__ import annotations

import os
import shutil
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    multiprocess,
    platform_collector,
    process_collector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Buckets around what a user notices: 5 ms for cached reads up to 10 s for a slow IMAP action.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A sync batch (fetch, parse, store up to a few hundred messages) and a job: up to minutes.
_BATCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# New mail from the server's arrival to the local commit: IDLE makes it seconds, polls minutes.
_LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

# The fixed sets some labels take (pre-created at 0 so `rate()` and alerts see them at once).
LOGIN_OUTCOMES = (
    "success",
    "failed",
    "locked",
    "unverified",
    "mfa_required",
    "mfa_failed",
    "rate_limited",
)
AI_OUTCOMES = ("ok", "error", "budget", "breaker")
TOKEN_KINDS = ("prompt", "completion")


def multiprocess_dir() -> str | None:
    """The shared directory of `serve --workers N`, or None in a single process."""
    return os.environ.get(MULTIPROC_ENV) or None


def _package_version() -> str:
    try:
        return version("postwise")
    except PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


@dataclass
class Snapshot:
    """Last reading of the gauges that come from storage; None: not read (yet) here."""

    mailboxes_by_state: dict[str, int] | None = None
    active_sessions: int | None = None
    jobs_queued: int | None = None
    # Jobs sent to the in-process broker and not started yet (its queue lives in this process);
    # None: this process has no in-process queue (a worker: the API reports the stream's).
    local_jobs_queued: int | None = None
    read_at: float = 0.0
    states: tuple[str, ...] = field(default=())


class _ScrapeCollector(Collector):
    """Values computed when scraped: storage readings, free disk space, the build."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        snap = self.metrics.snapshot
        build = GaugeMetricFamily(
            "postwise_build_info", "The running Postwise version (always 1).", labels=["version"]
        )
        build.add_metric([self.metrics.version], 1)
        yield build
        free = _free_bytes(self.metrics.data_dir)
        if free is not None:
            yield GaugeMetricFamily(
                "postwise_data_dir_free_bytes",
                "Free space on the file system of the data directory (database, blobs).",
                value=free,
            )
        if snap.mailboxes_by_state is not None:
            family = GaugeMetricFamily(
                "postwise_sync_mailboxes",
                "Mail accounts (IMAP) by sync state, read from the database at scrape time.",
                labels=["state"],
            )
            for state in sorted({*snap.states, *snap.mailboxes_by_state}):
                family.add_metric([state], snap.mailboxes_by_state.get(state, 0))
            yield family
        if snap.active_sessions is not None:
            yield GaugeMetricFamily(
                "postwise_active_sessions",
                "Sign-in sessions neither revoked nor expired, read at scrape time.",
                value=snap.active_sessions,
            )
        queued = snap.local_jobs_queued if snap.jobs_queued is None else snap.jobs_queued
        if queued is not None:
            yield GaugeMetricFamily(
                "postwise_jobs_queued",
                "Jobs sent and not yet started (the Redis stream's backlog, or this process's "
                "in-process queue).",
                value=queued,
            )


def _free_bytes(path: Path | None) -> int | None:
    if path is None:
        return None
    # The data directory may not exist yet (first start): ask about the nearest parent.
    for candidate in (path, *path.resolve().parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


class Metrics:
    """Every family, created once per app (or worker process) and handed down by injection."""

    def __init__(self, *, data_dir: Path | None = None) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
        self.data_dir = data_dir
        self.version = _package_version()
        self.snapshot = Snapshot()
        self._scrape = _ScrapeCollector(self)
        if not self.multiprocess:
            # Per-process collectors mean nothing summed over processes (prometheus-client's
            # multiprocess mode does not support them).
            process_collector.ProcessCollector(registry=self.registry)
            platform_collector.PlatformCollector(registry=self.registry)
            gc_collector.GCCollector(registry=self.registry)
            self.registry.register(self._scrape)
        self._http()
        self._sync()
        self._jobs()
        self._auth()
        self._ai()
        self.live_events = Counter(
            "postwise_live_events_total",
            "Events announced to live clients, by event type.",
            ["type"],
            registry=self.registry,
        )
        # Set by the scheduled backup job (`backup.tasks`); "max": the newest over processes,
        # kept after the process that wrote it is gone.
        self.backup_last_success = Gauge(
            "postwise_backup_last_success_timestamp_seconds",
            "Unix time of the last successful scheduled backup written by this process.",
            registry=self.registry,
            multiprocess_mode="max",
        )

    def _http(self) -> None:
        r = self.registry
        self.http_requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.http_in_flight = Gauge(
            "http_requests_in_flight",
            "HTTP requests being answered now.",
            registry=r,
            multiprocess_mode="livesum",
        )

    def _sync(self) -> None:
        r = self.registry
        self.sync_messages = Counter(
            "postwise_sync_messages_total", "Messages stored by the mail sync.", registry=r
        )
        self.sync_batch_duration = Histogram(
            "postwise_sync_batch_duration_seconds",
            "One batch of the sync pipeline: fetch, parse and store (commit included).",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.sync_lag = Histogram(
            "postwise_sync_lag_seconds",
            "New mail: from its arrival on the server (INTERNALDATE) to the local commit.",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.sync_idle_connections = Gauge(
            "postwise_sync_idle_connections",
            "IMAP connections waiting in IDLE for new mail.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.sync_errors = Counter(
            "postwise_sync_errors_total",
            "Mailbox sync failures, by the stable error code the mailbox records.",
            ["code"],
            registry=r,
        )

    def _jobs(self) -> None:
        r = self.registry
        self.jobs_running = Gauge(
            "postwise_jobs_running",
            "Jobs running now, by job name.",
            ["job_name"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.job_duration = Histogram(
            "postwise_job_duration_seconds",
            "Time one run of a job took (failed runs included), by job name.",
            ["job_name"],
            buckets=_JOB_BUCKETS,
            registry=r,
        )
        self.job_failures = Counter(
            "postwise_job_failures_total",
            "Job runs that raised, by job name (each failed attempt counts).",
            ["job_name"],
            registry=r,
        )
        self.job_retries = Counter(
            "postwise_job_retries_total",
            "Job runs that were a retry of a failed one, by job name.",
            ["job_name"],
            registry=r,
        )

    def _auth(self) -> None:
        r = self.registry
        self.logins = Counter(
            "postwise_logins_total",
            "Sign-in attempts (password step and MFA step), by outcome.",
            ["outcome"],
            registry=r,
        )
        for outcome in LOGIN_OUTCOMES:
            self.logins.labels(outcome=outcome)
        self.refresh_token_reuse = Counter(
            "postwise_refresh_token_reuse_total",
            "Refresh tokens presented again after rotation (the session is revoked).",
            registry=r,
        )
        self.account_lockouts = Counter(
            "postwise_account_lockouts_total",
            "Accounts locked (or their lock extended) after repeated sign-in failures.",
            registry=r,
        )
        self.rate_limited = Counter(
            "postwise_rate_limited_total",
            "Requests and socket connects refused by a rate limit (auth.throttle), by rule.",
            ["rule"],
            registry=r,
        )

    def _ai(self) -> None:
        r = self.registry
        self.ai_calls = Counter(
            "postwise_ai_calls_total",
            "Model calls by provider, task and outcome (budget/breaker: the remote provider "
            "was not asked and the local one answered).",
            ["provider", "task", "outcome"],
            registry=r,
        )
        self.ai_tokens = Counter(
            "postwise_ai_tokens_total",
            "Tokens used by remote providers, by kind (prompt, completion).",
            ["provider", "kind"],
            registry=r,
        )
        self.ai_cache_hits = Counter(
            "postwise_ai_cache_hits_total",
            "Remote answers served from the cache, by task.",
            ["task"],
            registry=r,
        )
        self.ai_cache_misses = Counter(
            "postwise_ai_cache_misses_total",
            "Remote answers not in the cache (a model was asked), by task.",
            ["task"],
            registry=r,
        )
        self.ai_triaged = Counter(
            "postwise_ai_triaged_total", "Messages triaged by the assistant.", registry=r
        )

    # -- small helpers the domains call (cheap: no I/O) --------------------------------------

    def login(self, outcome: str) -> None:
        self.logins.labels(outcome=outcome).inc()

    def ai_call(
        self, provider: str, task: str, outcome: str, *, prompt: int = 0, completion: int = 0
    ) -> None:
        self.ai_calls.labels(provider=provider, task=task, outcome=outcome).inc()
        if prompt:
            self.ai_tokens.labels(provider=provider, kind="prompt").inc(prompt)
        if completion:
            self.ai_tokens.labels(provider=provider, kind="completion").inc(completion)

    def announced(self, event_type: str) -> None:
        self.live_events.labels(type=event_type).inc()

    def prime(
        self,
        *,
        jobs: Iterable[str] = (),
        event_types: Iterable[str] = (),
        rate_limit_rules: Iterable[str] = (),
    ) -> None:
        """Create the known label sets at zero. A labelled counter otherwise appears at its
        first increment, and `rate()` never counts that first one (a job's first failure
        after a restart would not page anyone)."""
        for job in jobs:
            self.job_failures.labels(job_name=job)
            self.job_retries.labels(job_name=job)
            self.job_duration.labels(job_name=job)
        for event_type in event_types:
            self.live_events.labels(type=event_type)
        for rule in rate_limit_rules:
            self.rate_limited.labels(rule=rule)

    # -- exposition ----------------------------------------------------------------------

    def exposition_registry(self) -> CollectorRegistry:
        """What a scrape reads: this app's registry, or every process's files merged."""
        if not self.multiprocess:
            return self.registry
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        merged.register(self._scrape)
        return merged

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.exposition_registry()), CONTENT_TYPE_LATEST


# Which Metrics counts the events announced through a Store. `events.announce(store, ...)` is
# called from every domain with the Store only; binding the app's (or worker's) Metrics to the
# Store it built keeps the injection in the lifespan without a new parameter on every caller.
_by_store: weakref.WeakKeyDictionary[object, Metrics] = weakref.WeakKeyDictionary()


def bind_store(store: object, metrics: Metrics) -> None:
    _by_store[store] = metrics


def for_store(store: object) -> Metrics | None:
    return _by_store.get(store)


def mark_process_dead(pid: int) -> None:
    """Drop a finished process's live gauges from the shared directory (uvicorn worker exit)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
