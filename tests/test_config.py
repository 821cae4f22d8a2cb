"""Settings: POSTWISE_* names, secret rules, the dev secret kept in the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from postwise.config import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("POSTWISE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("secret", [None, "", "changeme", "secret", "short-but-random-9f2"])
@pytest.mark.parametrize("env", ["production", "test"])
def test_refuses_missing_or_weak_secret_outside_dev(env: str, secret: str | None) -> None:
    with pytest.raises(ValidationError, match="POSTWISE_SECRET_KEY"):
        Settings(env=env, secret_key=secret)


def test_accepts_a_strong_secret_in_production() -> None:
    settings = Settings(env="production", secret_key="k" * 48)
    assert settings.secret() == "k" * 48
    assert settings.effective_log_format == "json"


def test_dev_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = Settings(env="dev", data_dir=tmp_path).secret()
    second = Settings(env="dev", data_dir=tmp_path).secret()
    assert first == second
    assert len(first) >= 48
    secret_file = tmp_path / "secret_key"
    assert secret_file.read_text() == first
    assert secret_file.stat().st_mode & 0o777 == 0o600
    other = Settings(env="dev", data_dir=tmp_path / "other").secret()
    assert other != first


def test_environment_variables_apply(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTWISE_HOST", "0.0.0.0")
    monkeypatch.setenv("POSTWISE_PORT", "9123")
    monkeypatch.setenv("POSTWISE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POSTWISE_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("POSTWISE_LOG_LEVEL", "debug")
    monkeypatch.setenv("POSTWISE_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("POSTWISE_SMTP_SECURITY", "ssl")
    settings = Settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 9123)
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.smtp_security == "ssl"
    assert (
        settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/postwise.db"
    )
    assert settings.should_migrate_on_start is True
    assert settings.effective_log_format == "console"


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(port=70000)
    with pytest.raises(ValidationError):
        Settings(smtp_security="tls-please")


@pytest.mark.parametrize("env", ["dev", "production"])
@pytest.mark.parametrize(("memory", "time_cost"), [(19 * 1024 - 1, 2), (19 * 1024, 1), (8, 1)])
def test_argon2_below_owasp_refused_outside_tests(
    env: str, memory: int, time_cost: int, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="OWASP"):
        Settings(
            env=env,
            secret_key="k" * 48,
            data_dir=tmp_path,
            argon2_memory_kib=memory,
            argon2_time_cost=time_cost,
        )


def test_argon2_cheap_parameters_allowed_in_tests() -> None:
    settings = Settings(env="test", secret_key="k" * 48, argon2_memory_kib=8, argon2_time_cost=1)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (8, 1)


def test_public_url_follows_port_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's own example: links in mail and `postwise demo` must point at port 9000.
    monkeypatch.setenv("POSTWISE_PORT", "9000")
    assert Settings().public_url == "http://127.0.0.1:9000"
    monkeypatch.setenv("POSTWISE_HOST", "mail.corp.internal")
    assert Settings().public_url == "http://mail.corp.internal:9000"


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        # A wildcard bind is no address to visit; the loopback one is served by it.
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://[::1]:9000"),
        ("::1", 8000, "http://[::1]:8000"),
        ("2001:db8::5", 8443, "http://[2001:db8::5]:8443"),
        ("fe80::1%eth0", 8000, "http://[fe80::1%25eth0]:8000"),
        ("localhost", 80, "http://localhost"),
    ],
)
def test_default_public_url(host: str, port: int, url: str) -> None:
    assert Settings(host=host, port=port).public_url == url


def test_a_set_public_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTWISE_PORT", "9000")
    monkeypatch.setenv("POSTWISE_PUBLIC_URL", "https://mail.example.org")
    settings = Settings()
    assert settings.public_url == "https://mail.example.org"
    assert settings.secure_cookies is True
    # An invalid port is reported as such, not as a confusing public_url error.
    with pytest.raises(ValidationError) as refused:
        Settings(port=0)
    assert [error["loc"] for error in refused.value.errors()] == [("port",)]
