"""Known label sets exist at zero from the start: a labelled counter that appears only at its
first increment hides that increment from `rate()`, so a job's first failure after a restart,
or the first refusal of a rate limit, would never reach an alert."""

from __future__ import annotations

from prometheus_client import generate_latest

from postwise.auth.throttle import rule_names
from postwise.config import Settings
from postwise.events import EventType
from postwise.observability.metrics import Metrics
from postwise.runtime import open_runtime


async def test_the_runtime_primes_jobs_events_and_rate_limit_rules(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    metrics = Metrics(data_dir=tmp_path)
    async with open_runtime(settings, strict=False, metrics=metrics):
        text = generate_latest(metrics.registry).decode()
    assert 'postwise_job_failures_total{job_name="ai.triage"} 0.0' in text
    assert 'postwise_job_duration_seconds_count{job_name="notify.send_email"} 0.0' in text
    assert f'postwise_live_events_total{{type="{EventType.MESSAGE_CREATED.value}"}} 0.0' in text
    assert f'postwise_rate_limited_total{{rule="{rule_names()[0]}"}} 0.0' in text
