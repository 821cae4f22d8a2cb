"""Monitoring as shipped in deploy/: the Prometheus rules (promtool's check and unit tests), the
runbook they point to, the Grafana dashboards, and every dashboard query run against a real
Prometheus scraping a real `postwise serve` and `postwise worker` that were given work to do."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from websockets.sync.client import connect

from postwise.notify.mailer import DEFAULT_RETRY_DELAYS
from postwise.observability.metrics import Metrics
from postwise.realtime.hub import LiveMetrics
from tests.conftest import BACKEND
from tests.fixtures.dovecot import Dovecot, free_port
from tests.fixtures.openai_standin import (  # noqa: F401 (fixture)
    _Running,
    openai_standin_server_fixture,
)
from tests.fixtures.prometheus import (
    Prometheus,
    ScrapeJob,
    has_data,
    require_promtool,
    running_prometheus,
)
from tests.fixtures.topology import Topology, add_user, require_topology, running_topology

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/rules/postwise.yml"
RULE_TESTS = sorted((ROOT / "deploy/prometheus/tests").glob("*_test.yml"))
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
RUNBOOK = ROOT / "docs/operations.md"

# Metrics that a run of a few seconds cannot give data, each with why. Their panels and alerts
# stay; the live test checks every other metric a dashboard names has series in Prometheus and
# every panel query returns a number.
NO_DATA_IN_TEST: dict[str, str] = {
    "postwise_sync_errors_total": "no mailbox fails: the test Dovecot takes any password and "
    "stays up for the whole run",
}

# What Grafana fills in: a rate window longer than the whole run, so every event counts.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "5m", "$__range": "5m"}

# --- reading PromQL -------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w.$])[a-zA-Z_:][\w:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (a tokenizer, not a parser: Prometheus itself
    parses every query in the live test, and these expressions are ours)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in _KEYWORDS:
            names.add(match.group())
    return names


def grafana_expr(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a template variable the test does not fill in: {expr}"
    return expr


def test_metric_names_reads_series_names_only() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket"
        '{status=~"5..|x_total"}[$__rate_interval]))) / on () sum(up) > 1e9 '
        "and time() - max(postwise:http_requests:rate5m offset 5m) or vector(0)"
    )
    assert metric_names(expr) == {
        "http_request_duration_seconds_bucket",
        "up",
        "postwise:http_requests:rate5m",
    }


# --- rules ----------------------------------------------------------------------------------------


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_promtool(), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_checks_the_rules() -> None:
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    result = _promtool("test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    cases = [case for path in RULE_TESTS for case in yaml.safe_load(path.read_text())["tests"]]
    for case in cases:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {alert["alert"] for alert in _alerts()}
    assert names - fires == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested staying quiet"


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_is_labelled_and_points_at_a_runbook_section() -> None:
    anchors = {
        _slug(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines() if line.startswith("#")
    }
    for alert in _alerts():
        name = alert["alert"]
        assert "for" in alert, name
        assert alert["labels"]["severity"] in {"warning", "critical"}, name
        annotations = alert["annotations"]
        assert annotations.get("summary") and annotations.get("description"), name
        page, _, anchor = annotations["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, (name, annotations["runbook"])


# --- dashboards -----------------------------------------------------------------------------------


def _dashboards() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, json.loads(path.read_text())) for path in DASHBOARDS]


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expression) of every query of every panel."""
    return [
        (name, panel["title"], target["expr"])
        for name, board in _dashboards()
        for panel in board["panels"]
        for target in panel["targets"]
    ]


def test_the_dashboards_are_grafana_models_with_a_query_and_a_data_source_per_panel() -> None:
    boards = _dashboards()
    assert {name for name, _ in boards} >= {
        "postwise-http.json",
        "postwise-auth.json",
        "postwise-sync.json",
        "postwise-jobs.json",
        "postwise-ai.json",
    }
    uids = [board["uid"] for _, board in boards]
    assert len(set(uids)) == len(uids) and all(uids)
    for name, board in boards:
        assert board["title"] and 36 <= board["schemaVersion"] <= 41, name
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", name
        assert variables["datasource"]["query"] == "prometheus", name
        ids = [panel["id"] for panel in board["panels"]]
        assert len(set(ids)) == len(ids), name
        for panel in board["panels"]:
            where = f"{name}: {panel.get('title')}"
            assert panel["type"] in {"timeseries", "stat"}, where
            assert panel["title"] and panel.get("gridPos"), where
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
            assert panel["fieldConfig"]["defaults"].get("unit"), where
            assert panel["targets"], where
            for target in panel["targets"]:
                assert target["expr"].strip() and target["refId"], where
                assert target["datasource"]["uid"] == "${datasource}", where


def test_the_runbook_lists_every_dashboard() -> None:
    runbook = RUNBOOK.read_text()
    for name, board in _dashboards():
        assert f"`{name}`" in runbook and f"`{board['uid']}`" in runbook, name


def _exported_names(tmp_path: Path) -> set[str]:
    """Every series name the app's metric families can produce."""
    metrics = Metrics(data_dir=tmp_path)
    LiveMetrics(metrics.registry)
    # The gauges read from storage at scrape time, as if read.
    metrics.snapshot.mailboxes_by_state = {}
    metrics.snapshot.active_sessions = 0
    metrics.snapshot.jobs_queued = 0
    names = set()
    for family in metrics.registry.collect():
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_count", "_sum"),
        }.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
    return names


def test_dashboards_and_rules_read_only_metrics_the_app_exports(tmp_path: Path) -> None:
    known = _exported_names(tmp_path) | {"up"} | {r["record"] for r in _rules() if "record" in r}
    used = {(name, title): metric_names(expr) for name, title, expr in panel_queries()}
    used |= {
        ("rules", rule.get("alert") or rule["record"]): metric_names(rule["expr"])
        for rule in _rules()
    }
    unknown = {where: names - known for where, names in used.items() if names - known}
    assert unknown == {}


# --- the live check -------------------------------------------------------------------------------

EMAIL = "monitor@example.test"
OTHER = "locked-out@example.test"
PASSWORD = "monitoring-test-password-1"
API = {"X-Postwise-Client": "api"}


def _mail(subject: str, to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ada Lovelace <ada@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(f"Could you send me the figures for {subject} by Friday?\n")
    return bytes(message)


def seen(prometheus: Prometheus, expr: str) -> bool:
    return has_data(prometheus.query(expr))


def _until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `check`; the bound only stops a hang (nothing here is timed)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def monitored(
    dovecot: Dovecot, openai_standin_server: _Running
) -> Iterator[tuple[Topology, Prometheus]]:
    """One `postwise serve` and one `postwise worker` (PostgreSQL, Redis, nginx in front), the
    remote AI provider played by the OpenAI stand-in, and a Prometheus with the shipped rules
    scraping both processes every second."""
    require_topology()
    root = Path(tempfile.mkdtemp(prefix="postwise-monitoring-"))
    worker_metrics = free_port()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        topology = cleanup.enter_context(
            running_topology(
                root,
                apis=1,
                workers=1,
                dovecot=dovecot,
                extra_env={
                    "POSTWISE_WORKER_METRICS_PORT": str(worker_metrics),
                    "POSTWISE_AI_PROVIDER": "openai",
                    "POSTWISE_OPENAI_BASE_URL": openai_standin_server.standin.url,
                    "POSTWISE_OPENAI_API_KEY": "sk-monitoring-test",
                    # A replayed refresh token is reuse at once, not a client retrying.
                    "POSTWISE_REFRESH_REUSE_GRACE_SECONDS": "0",
                    # The third search of a minute is refused: a rate-limit refusal to count.
                    "POSTWISE_RATE_LIMITS": json.dumps({"search-user": "2/minute"}),
                    # The scheduled backup runs as the worker starts.
                    "POSTWISE_BACKUP_DIR": str(root / "backups"),
                },
            )
        )
        prometheus = cleanup.enter_context(
            running_prometheus(
                root / "prometheus",
                [
                    ScrapeJob("postwise-api", [f"127.0.0.1:{api.port}" for api in topology.apis]),
                    ScrapeJob("postwise-worker", [f"127.0.0.1:{worker_metrics}"]),
                ],
                rule_files=[RULES],
            )
        )
        # Counters are seen at their start before the traffic, so rates see it whole.
        prometheus.wait_for_scrapes(2)
        yield topology, prometheus


def _drive_traffic(topology: Topology, prometheus: Prometheus) -> None:
    """Something for every family: sign-ins of every kind, a replayed refresh token, a
    lockout, a rate-limit refusal, a synced mailbox with new mail, AI calls with a cache hit,
    a live socket, and a job that fails once and is retried."""
    assert topology.dovecot is not None
    for email in (EMAIL, OTHER):
        asyncio.run(add_user(topology.database_url, email, PASSWORD))
    username, password = topology.dovecot.add_user()
    imap = topology.dovecot.client(username)
    for n in range(3):
        imap.append("INBOX", _mail(f"quarter {n}", username))
    with httpx.Client(base_url=topology.url, timeout=30) as http:
        wrong = http.post("/api/auth/login", json={"email": EMAIL, "password": "wrong"})
        assert wrong.status_code == 401, wrong.text
        first = http.post(
            "/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, headers=API
        )
        assert first.status_code == 200, first.text
        stolen = first.json()["refresh_token"]
        rotated = http.post("/api/auth/refresh", json={"refresh_token": stolen}, headers=API)
        assert rotated.status_code == 200, rotated.text
        replayed = http.post("/api/auth/refresh", json={"refresh_token": stolen}, headers=API)
        assert replayed.status_code == 401, replayed.text
        for _ in range(5):
            http.post("/api/auth/login", json={"email": OTHER, "password": "wrong"})
        login = http.post(
            "/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, headers=API
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        searches = [http.get("/api/search", params={"q": "figures"}).status_code for _ in range(3)]
        assert searches[-1] == 429, searches

        ws_url = topology.url.replace("http://", "ws://") + "/api/ws"
        with connect(ws_url) as socket:
            socket.send(json.dumps({"type": "auth", "token": token}))
            while json.loads(socket.recv(timeout=10)).get("type") != "ready":
                pass
            created = http.post(
                "/api/accounts",
                json={
                    "email": username,
                    "password": password,
                    "imap_host": topology.dovecot.host,
                    "imap_port": topology.dovecot.imap_port,
                    "imap_security": "none",
                    "smtp_host": topology.smtp.host,
                    "smtp_port": topology.smtp.port,
                    "smtp_security": "none",
                },
            )
            assert created.status_code == 201, created.text

            def threads() -> list[dict[str, Any]]:
                items: list[dict[str, Any]] = http.get("/api/threads").json()["items"]
                return items

            _until(lambda: len(threads()) >= 3, "the first sync")
            # New mail after the first sync: the lag from arrival to commit is measured.
            imap.append("INBOX", _mail("quarter 3", username))
            _until(lambda: len(threads()) >= 4, "new mail through IDLE")
            imap.logout()
            # AI calls by label appear with their first call: only calls after Prometheus has
            # seen the series count in a rate, so summaries come after triage was scraped.
            _until(lambda: seen(prometheus, "sum(postwise_ai_calls_total) > 0"), "AI calls")
            first, second = (thread["id"] for thread in threads()[:2])
            for thread_id in (first, second, first):  # the last one comes from the cache
                summary = http.get(f"/api/ai/threads/{thread_id}/summary")
                assert summary.status_code == 200, summary.text
                time.sleep(1.5)  # a scrape between them
        # The SMTP server fails the reset mail more often than the mailer retries by itself:
        # the job fails once and is retried (and then delivers).
        topology.smtp.temporary_failures = 1 + len(DEFAULT_RETRY_DELAYS)
        forgot = http.post("/api/auth/password/forgot", json={"email": EMAIL})
        assert forgot.status_code in {200, 202, 204}, forgot.text


@pytest.mark.backend
# In the topology tests' xdist group, so never beside them: run at the same time in the other
# worker (two topologies' nginx, API and worker processes starting together on two cores), the
# fresh-clone runs saw this test's latency quantile never get a value; alone it always does.
@pytest.mark.xdist_group("topology")
@pytest.mark.skipif(
    BACKEND != "postgres", reason="several processes need PostgreSQL + Redis (postgres pass)"
)
# Starting four processes on a loaded machine can take a while; nothing here is timed.
@pytest.mark.timeout(300)
def test_every_dashboard_query_returns_data_from_a_real_prometheus(
    monitored: tuple[Topology, Prometheus],
) -> None:
    topology, prometheus = monitored
    _drive_traffic(topology, prometheus)
    # What happens after the requests return: triage, the reset mail's failed and retried job.
    for after in (
        "sum(postwise_ai_triaged_total) > 0",
        "sum(postwise_job_failures_total) > 0",
        "sum(postwise_job_retries_total) > 0",
    ):
        _until(functools.partial(seen, prometheus, after), after)
    # Latency quantiles need requests between two scrapes: on a loaded machine all of the
    # requests above can land before the first scrape of their series, leaving a rate of zero
    # (a NaN quantile; the fresh-clone run saw it). A few more now, then wait until the
    # recording rule has a number.
    with httpx.Client(base_url=topology.url, timeout=30) as http:
        for _ in range(5):
            http.get("/api/users/me")
    p95 = "postwise:http_request_duration_seconds:p95_5m >= 0"
    _until(functools.partial(seen, prometheus, p95), p95, timeout=90.0)
    time.sleep(2.5)  # two more scrapes and rule evaluations after the last of it

    present = prometheus.series_names()
    used = {name for _, _, expr in panel_queries() for name in metric_names(expr)}
    used |= {name for rule in _rules() for name in metric_names(rule["expr"])}
    missing = sorted(used - present - set(NO_DATA_IN_TEST))
    empty = [
        (board, title, expr)
        for board, title, expr in panel_queries()
        if not metric_names(expr) & set(NO_DATA_IN_TEST)
        and not has_data(prometheus.query(grafana_expr(expr)))
    ]
    broken = [rule for rule in prometheus.rule_health() if rule[1] != "ok"]
    problems = [
        *(f"no series of {name}" for name in missing),
        *(f"no data for {board} / {title}: {expr}" for board, title, expr in empty),
        *(f"rule {name} is {health}: {error}" for name, health, error in broken),
    ]
    assert not problems, "\n".join(problems)
    # The rules work on the real series too: the replayed refresh token is being alerted on.
    firing = 'ALERTS{alertname="PostwiseRefreshTokenReuse", alertstate="firing"}'
    assert seen(prometheus, firing), prometheus.query("ALERTS")
    # The exceptions are still exceptions: one that gets data should leave the list.
    assert not set(NO_DATA_IN_TEST) & present, "these now have data: drop them from the list"
