"""The plain-server deployment files: the nginx site under `nginx -t` (both upstream variants,
with a generated certificate) and consistent with the app's limits and headers, the systemd
units under `systemd-analyze verify` (or read key by key where systemd is not installed)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from postwise.cli import cli
from postwise.config import Settings
from postwise.observability.middleware import SecurityHeadersMiddleware
from tests import services
from tests.fixtures.dovecot import _self_signed

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "deploy" / "nginx"
SYSTEMD_DIR = ROOT / "deploy" / "systemd"
SITE = NGINX_DIR / "postwise.conf"
TLS_DIR = "/etc/postwise/tls/"
POSTWISE_BIN = "/opt/postwise/.venv/bin/postwise"
# nginx that follows an upstream name with `resolve` (compose/upstream.conf).
RESOLVE_SINCE = (1, 27, 3)

NGINX_CONF = """\
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include sites/postwise.conf;
}}
"""

# --- nginx ------------------------------------------------------------------------------------


def _nginx() -> str:
    return services.require_binary("nginx", shutil.which("nginx") or "/usr/sbin/nginx")


def _nginx_version(nginx: str) -> tuple[int, ...]:
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", result.stderr)
    assert match, result.stderr
    return tuple(int(part) for part in match.groups())


def _nginx_test(tmp_path: Path, upstream: str) -> subprocess.CompletedProcess[str]:
    """`nginx -t` of the site as installed: conf/sites/postwise.conf, conf/postwise/*.conf."""
    conf = tmp_path / "conf"
    (conf / "sites").mkdir(parents=True)
    (conf / "postwise").mkdir()
    cert, key = _self_signed(tmp_path)
    site = SITE.read_text()
    assert f"{TLS_DIR}fullchain.pem" in site and f"{TLS_DIR}privkey.pem" in site
    site = site.replace(f"{TLS_DIR}fullchain.pem", str(cert)).replace(
        f"{TLS_DIR}privkey.pem", str(key)
    )
    (conf / "sites" / "postwise.conf").write_text(site)
    shutil.copy(NGINX_DIR / "postwise" / "proxy.conf", conf / "postwise" / "proxy.conf")
    (conf / "postwise" / "upstream.conf").write_text(upstream)
    (conf / "nginx.conf").write_text(NGINX_CONF.format(root=tmp_path))
    return subprocess.run(
        [_nginx(), "-t", "-p", str(tmp_path), "-c", str(conf / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_nginx_site_for_a_plain_server_passes_nginx_t(tmp_path: Path) -> None:
    result = _nginx_test(tmp_path, (NGINX_DIR / "postwise" / "upstream.conf").read_text())
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # nginx 1.25.1+ prefers `http2 on;`, which Debian 12's 1.22 does not know: that one warning
    # is expected on a newer nginx.
    warnings = [
        line
        for line in result.stderr.splitlines()
        if "[warn]" in line and '"listen ... http2" directive is deprecated' not in line
    ]
    assert not warnings, result.stderr


def test_nginx_site_for_compose_passes_nginx_t(tmp_path: Path) -> None:
    upstream = (NGINX_DIR / "compose" / "upstream.conf").read_text()
    assert "server api:8000 resolve" in upstream
    if _nginx_version(_nginx()) < RESOLVE_SINCE:
        # The compose proxy runs nginx 1.28; an older nginx here checks everything but the
        # `resolve` parameter, with the service name pointed at loopback.
        upstream = upstream.replace("server api:8000 resolve", "server 127.0.0.1:8000")
    result = _nginx_test(tmp_path, upstream)
    assert result.returncode == 0, result.stderr


def _location(site: str, name: str) -> str:
    start = site.index(f"location {name} {{")
    return site[start : site.index("}", start)]


def _size(value: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


def test_nginx_passes_every_upload_the_app_accepts_and_no_more() -> None:
    site = SITE.read_text()
    fields = Settings.model_fields
    max_body, max_attachment, max_import = (
        int(fields[name].default)
        for name in ("max_body_bytes", "max_attachment_bytes", "max_import_bytes")
    )
    general = re.search(r"^    client_max_body_size (\S+);", site, re.M)
    assert general
    # Attachment uploads carry multipart framing on top (compose/attachments.py); nginx lets
    # them all through and leaves the refusal (a problem+json 413) to the app.
    largest = max(max_body, max_attachment + 64 * 1024)
    assert largest <= _size(general.group(1)) <= largest + 2 * 1024**2
    imports = _location(site, "= /api/accounts/import")
    import_limit = re.search(r"client_max_body_size (\S+);", imports)
    assert import_limit and _size(import_limit.group(1)) == max_import
    assert "proxy_request_buffering off;" in imports


def test_nginx_upgrades_websockets_and_balances_two_backends_with_retries() -> None:
    site = SITE.read_text()
    ws = _location(site, "= /api/ws")
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $postwise_connection;" in ws
    assert re.search(r"proxy_read_timeout (\d+h|\d{4,}s?);", ws)
    upstream = (NGINX_DIR / "postwise" / "upstream.conf").read_text()
    assert len(re.findall(r"^\s*server 127\.0\.0\.1:\d+", upstream, re.M)) >= 2
    assert "keepalive " in upstream
    assert "proxy_next_upstream error timeout" in site
    assert "non_idempotent" not in site  # a POST that reached a backend is never resent
    assert "return 301 https://$host$request_uri;" in site
    proxy = (NGINX_DIR / "postwise" / "proxy.conf").read_text()
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header};" in proxy
    assert "return 404" in _location(site, "= /metrics")


async def _app_headers() -> set[str]:
    sent: list[MutableMapping[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Callable[[Any], Awaitable[None]]) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def capture(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    middleware = SecurityHeadersMiddleware(
        app, csp="default-src 'self'", docs_csp="", docs_prefixes=()
    )
    await middleware({"type": "http", "path": "/"}, None, capture)  # type: ignore[arg-type]
    return {name.decode().lower() for name, _ in sent[0]["headers"]}


async def test_nginx_adds_only_the_security_headers_the_app_does_not_send() -> None:
    app_headers = await _app_headers()
    assert "content-security-policy" in app_headers  # the stand-in is the real middleware
    added = {name.lower() for name in re.findall(r"^\s*add_header (\S+)", SITE.read_text(), re.M)}
    assert "strict-transport-security" in added
    assert not added & app_headers, f"sent twice: {added & app_headers}"


# --- systemd ----------------------------------------------------------------------------------

UNIT_SUFFIXES = (".service", ".timer", ".target")
UNITS = sorted(path.name for path in SYSTEMD_DIR.iterdir() if path.suffix in UNIT_SUFFIXES)
SERVICES = [name for name in UNITS if name.endswith(".service")]


def _unit(name: str) -> configparser.ConfigParser:
    # strict=False: systemd allows a key more than once (ExecStartPost=...).
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((SYSTEMD_DIR / name).read_text())
    return parser


def test_the_plain_server_topology_is_complete() -> None:
    assert {
        "postwise-api@.service",
        "postwise-worker@.service",
        "postwise-migrate.service",
        "postwise-backup.service",
        "postwise-backup.timer",
    } <= set(UNITS)


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_hardened_and_runs_a_postwise_command(name: str) -> None:
    unit = _unit(name)
    assert set(unit.sections()) >= {"Unit", "Service"}
    service = unit["Service"]
    assert service["User"] == "postwise"
    assert service["EnvironmentFile"] == "/etc/postwise/postwise.env"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, (name, key)
    assert "/var/lib/postwise" in service["ReadWritePaths"].split()
    commands = set(get_command(cli).commands)  # type: ignore[attr-defined]
    invoked = re.findall(re.escape(POSTWISE_BIN) + r" (\S+)", service["ExecStart"])
    assert invoked and set(invoked) <= commands, invoked


def test_api_and_workers_require_the_migration_which_runs_once_per_start() -> None:
    migrate = _unit("postwise-migrate.service")["Service"]
    assert migrate["Type"] == "oneshot" and migrate["ExecStart"].endswith("postwise migrate")
    for name in ("postwise-api@.service", "postwise-worker@.service"):
        unit = _unit(name)["Unit"]
        assert "postwise-migrate.service" in unit["Requires"].split(), name
        assert "postwise-migrate.service" in unit["After"].split(), name
    assert _unit("postwise-api@.service")["Service"]["Environment"] == "POSTWISE_PORT=%i"
    worker = _unit("postwise-worker@.service")["Service"]
    assert worker["Environment"] == "POSTWISE_WORKER_METRICS_PORT=%i"
    timer = _unit("postwise-backup.timer")["Timer"]
    assert timer["OnCalendar"] and timer["Persistent"] == "true"


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units are checked key by key above")
    # verify checks that every ExecStart binary exists: a stand-in takes the install's place.
    stand_in = tmp_path / "bin" / "postwise"
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (SYSTEMD_DIR / name).read_text().replace(POSTWISE_BIN, str(stand_in))
        (units / name).write_text(text)
    # Templates are verified through an instance, as systemd would load them.
    targets = [f"./{name.replace('@.', '@8000.')}" for name in UNITS]
    result = subprocess.run(
        [analyze, "verify", "--man=no", *targets],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=units,
    )
    # Unknown keys and bad values are only warnings (exit 0): any output is a failure.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
