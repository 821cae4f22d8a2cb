"""One validated Settings object; every knob is a documented `POSTWISE_*` environment variable."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from postwise.kit.hosts import ALLOW, DENY, HostPolicy, host_policy

# Secrets that appear in docs, examples and tutorials: a deployment using one is not secret.
_WELL_KNOWN_SECRETS = frozenset(
    {"", "secret", "changeme", "change-me", "changethis", "dev", "development", "postwise", "test"}
)
_MIN_SECRET_LENGTH = 32
_SECRET_FILE = "secret_key"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSecretError(ValueError):
    """Raised when a non-dev deployment would run with a missing or guessable secret."""


ARGON2_MIN_MEMORY_KIB = 19 * 1024
ARGON2_MIN_TIME_COST = 2


def _default_web_dir() -> Path:
    # A source checkout keeps the built web app in <repo>/web/out; a packaged install sets
    # POSTWISE_WEB_DIR instead.
    return Path(__file__).resolve().parents[2] / "web" / "out"


def local_url(host: str, port: int) -> str:
    """The http:// address at which a server bound to host:port can be reached.

    A wildcard bind (0.0.0.0, ::, or empty) is no address to visit: its loopback twin is."""
    host = host.strip().strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            # Bracketed, with a zone's "%" written as "%25" (RFC 6874).
            host = f"[{host.replace('%', '%25')}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTWISE_", extra="ignore", frozen=True)

    env: Environment = Environment.DEV
    secret_key: SecretStr | None = None
    # Secrets being rotated out: still accepted to verify tokens and decrypt stored secrets.
    secret_key_previous: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    data_dir: Path = Path("./data")
    database_url: str | None = None
    database_timeout: float = Field(default=5.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Where users reach the app; every link in mail is built from it. Unset: this process's
    # own address, from host and port (see _public_url_follows_host_and_port).
    public_url: str = Field(default="", validate_default=True)
    redis_url: str | None = None
    # `postwise worker` serves its Prometheus metrics on this address (0: off); local only by
    # default, like the API (docs/observability.md). Several workers on one host need a port each.
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    # Namespaces keys and channels, so several deployments can share one Redis.
    store_prefix: str = "postwise:"

    registration: Literal["open", "invite", "closed"] = "open"
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Rate limits replaced by rule name (docs/security.md, "Rate limits"), a JSON object such
    # as {"search-ip": "2000/minute", "login-ip": "100/minute;1000/hour"}: e.g. for many
    # users behind one address, or a load test.
    rate_limits: dict[str, str] = Field(default_factory=dict)
    access_token_ttl: int = Field(default=15 * 60, ge=60, le=24 * 3600)
    refresh_idle_ttl: int = Field(default=14 * 24 * 3600, ge=60)
    refresh_absolute_ttl: int = Field(default=30 * 24 * 3600, ge=60)
    # A refresh token used again this soon after its rotation, while its successor is still
    # unused, is a response the client never received (a reload mid-request), not a theft.
    refresh_reuse_grace_seconds: int = Field(default=15, ge=0, le=60)
    verify_token_ttl: int = Field(default=24 * 3600, ge=60)
    reset_token_ttl: int = Field(default=3600, ge=60)
    # OWASP's minimum for argon2id: m=19 MiB, t=2, p=1. Raising them upgrades hashes at login.
    # Lower values are refused except with POSTWISE_ENV=test, where the suite hashes thousands
    # of passwords and only the tests about hashing use the real parameters.
    argon2_memory_kib: int = Field(default=ARGON2_MIN_MEMORY_KIB, ge=8)
    argon2_time_cost: int = Field(default=ARGON2_MIN_TIME_COST, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_timeout: float = Field(default=15.0, gt=0)
    mail_from: str = "Postwise <postwise@localhost>"

    ai_provider: Literal["local", "openai"] = "local"
    # Triage new mail and backfill the rest (category, priority, summary...). Off, mail is
    # still synced and searchable; nothing is triaged.
    ai_triage: bool = True
    # Processes that run local triage beside the API or worker (0: a thread of this process),
    # so that triaging a large backfill never competes with requests for the GIL.
    ai_triage_processes: int = Field(default=1, ge=0, le=16)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    # The model that turns text into vectors, on the same server (POSTWISE_OPENAI_BASE_URL).
    openai_embedding_model: str = "text-embedding-3-small"
    # Seconds one remote AI request may take; past it the local provider answers instead
    # (a timed-out request is not retried: the next one would most likely wait as long).
    ai_timeout_seconds: float = Field(default=20.0, gt=0)
    # Retries of a remote AI request after 429, 5xx or a connection error, with backoff that
    # honours Retry-After; then the local provider answers.
    ai_max_retries: int = Field(default=2, ge=0, le=10)
    # Remote AI requests in flight at once in one process; more wait their turn.
    ai_max_concurrency: int = Field(default=4, ge=1, le=256)
    # What one user's remote AI use may cost per UTC day (0: never remote); past it the local
    # provider answers until midnight. A user may lower it, or raise it with their own key.
    ai_daily_budget_usd: float = Field(default=1.0, ge=0)
    # US dollars per 1,000 prompt and completion tokens (the default: gpt-4o-mini's prices).
    ai_price_input_per_1k: float = Field(default=0.00015, ge=0)
    ai_price_output_per_1k: float = Field(default=0.0006, ge=0)
    # Replace email addresses, phone and card numbers by placeholders before mail leaves the
    # machine (a user may also turn it on for themselves).
    ai_redact: bool = False
    # After this many remote failures in a row (timeouts, connection errors, 429, 5xx) for one
    # server and model, the local provider answers for ai_breaker_seconds, then one request
    # probes the server again.
    ai_breaker_failures: int = Field(default=5, ge=1)
    ai_breaker_seconds: float = Field(default=60.0, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] | None = None
    log_file: Path | None = None
    log_file_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    log_file_backups: int = Field(default=5, ge=0)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # An mbox upload (POST /api/accounts/import) is streamed to disk, never held in memory.
    max_import_bytes: int = Field(default=20 * 1024**3, gt=0)
    web_dir: Path = Field(default_factory=_default_web_dir)
    migrate_on_start: bool | None = None

    # Connected mailboxes: connecting, and finding a provider's servers.
    mail_connect_timeout: float = Field(default=15.0, gt=0)
    # Extra CA certificates (PEM) trusted for IMAP/SMTP servers, e.g. a private server's own.
    mail_ca_file: Path | None = None
    # Servers not found in the built-in table are looked up in DNS (RFC 6186 SRV records) and
    # in Thunderbird-style autoconfig documents at these addresses ({domain}, {email}).
    autoconfig_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
            "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
        ]
    )
    # DNS servers for the SRV lookups (host or host:port); empty: the system's resolver.
    dns_nameservers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    discovery_timeout: float = Field(default=5.0, gt=0)
    # Private addresses (loopback, RFC 1918, link-local, ...) that mailbox connections and
    # autodiscovery may reach: allow, deny, or a comma-separated list of hosts and networks.
    # Unset: allow in dev, deny otherwise (see docs/security.md, "Private hosts").
    mail_private_hosts: str | None = None

    # The sync engine.
    # Run the engine inside the API process. Unset: yes when there is no Redis (the embedded
    # default, which has no separate worker); with Redis, `postwise worker` runs it.
    sync_in_process: bool | None = None
    sync_batch_size: int = Field(default=250, ge=1, le=5000)
    # Processes parsing MIME in parallel (0: one per core).
    sync_parse_processes: int = Field(default=0, ge=0)
    # A worker holds a mailbox for this long and renews it at a third of it; a dead worker's
    # mailboxes are taken over once their lease has run out.
    sync_lease_seconds: int = Field(default=60, ge=5)
    # IDLE is re-issued before servers drop it (RFC 2177: 29 minutes at most).
    sync_idle_seconds: int = Field(default=25 * 60, ge=5, le=29 * 60)
    # How often folders other than the inbox are checked, and flags scanned on servers
    # without CONDSTORE.
    sync_poll_seconds: int = Field(default=120, ge=1)
    # Where attachment and raw-message blobs live (default: <data_dir>/blobs).
    blob_dir: Path | None = None

    # Compose and send (docs/api.md, "Compose").
    # The most a draft's attachments may add up to; most providers refuse larger messages.
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # Temporary SMTP failures (4xx, network) are retried with a backoff that starts here and
    # doubles, for at most send_retry_seconds after the first attempt; then the entry fails.
    send_retry_base_seconds: float = Field(default=30.0, gt=0)
    send_retry_seconds: int = Field(default=3600, ge=0)
    # How often the outbox is swept for scheduled sends, retries and stalled deliveries.
    outbox_sweep_seconds: int = Field(default=15, ge=1)
    # A worker sending a message holds it this long; past it, the sweep decides what happened.
    send_claim_seconds: int = Field(default=120, ge=5)
    # A draft's copy in the server's Drafts folder is replaced this long after the last save,
    # so a burst of autosaves makes one APPEND, not one each.
    draft_mirror_delay_seconds: float = Field(default=2.0, ge=0)

    # Live events (WS /api/ws, docs/websocket.md).
    # Seconds between heartbeat frames; each heartbeat also re-checks that the socket's session
    # has not been revoked, so this is also how late a logout can reach an open socket.
    live_heartbeat_seconds: float = Field(default=25.0, gt=0, le=300)
    # Seconds a new socket has to send its auth message before it is closed (4408).
    live_auth_timeout: float = Field(default=10.0, gt=0, le=300)
    # Frames that may wait for one slow socket; past that it is closed (1013) and re-reads.
    live_queue_size: int = Field(default=256, ge=1, le=100_000)

    # Scheduled backups (docs/backup.md). Unset or empty: off; else a backup is written into
    # this folder when the newest there is this many hours old, keeping the newest backup_keep.
    backup_dir: Path | None = None
    backup_interval_hours: float = Field(default=24.0, gt=0)
    backup_keep: int = Field(default=7, ge=1)

    @field_validator(
        "cors_origins",
        "trusted_proxies",
        "secret_key_previous",
        "autoconfig_urls",
        "dns_nameservers",
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # A comma-separated env var reads more naturally than a JSON list.
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _empty_backup_dir_is_off(cls, value: object) -> object:
        # POSTWISE_BACKUP_DIR= would otherwise be Path(""), the current directory.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rate_limits")
    @classmethod
    def _parsable_rate_limits(cls, value: dict[str, str]) -> dict[str, str]:
        # A typo must stop the start, not leave a route unlimited or closed.
        for name, spec in value.items():
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
                raise ValueError(f"POSTWISE_RATE_LIMITS: {name!r} is not a rule name")
            try:
                parse_many(spec)
            except ValueError as error:
                raise ValueError(f"POSTWISE_RATE_LIMITS[{name!r}]: {error}") from None
        return value

    @field_validator("mail_private_hosts")
    @classmethod
    def _known_private_hosts(cls, value: str | None) -> str | None:
        # A typo here must stop the start, not silently deny (or allow) every mailbox.
        if value is not None:
            host_policy(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_follows_host_and_port(cls, value: str, info: ValidationInfo) -> str:
        # Declared after host and port, so info.data holds them once they validated.
        if value:
            return value
        host, port = info.data.get("host"), info.data.get("port")
        if not isinstance(host, str) or not isinstance(port, int):
            return ""  # host or port is invalid and is reported on its own
        return local_url(host, port)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _owasp_argon2_outside_tests(self) -> Settings:
        if self.env is not Environment.TEST and (
            self.argon2_memory_kib < ARGON2_MIN_MEMORY_KIB
            or self.argon2_time_cost < ARGON2_MIN_TIME_COST
        ):
            raise ValueError(
                f"POSTWISE_ARGON2_MEMORY_KIB must be at least {ARGON2_MIN_MEMORY_KIB} and "
                f"POSTWISE_ARGON2_TIME_COST at least {ARGON2_MIN_TIME_COST} (OWASP's minimum "
                "for argon2id); lower values are accepted only with POSTWISE_ENV=test"
            )
        return self

    @model_validator(mode="after")
    def _require_secret_outside_dev(self) -> Settings:
        if self.env is Environment.DEV:
            return self
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if secret.lower() in _WELL_KNOWN_SECRETS or len(secret) < _MIN_SECRET_LENGTH:
            raise InsecureSecretError(
                f"POSTWISE_SECRET_KEY must be set to a random value of at least "
                f"{_MIN_SECRET_LENGTH} characters when POSTWISE_ENV={self.env.value} "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def is_dev(self) -> bool:
        return self.env is Environment.DEV

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'postwise.db').resolve()}"

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "console" if self.is_dev else "json"

    @property
    def effective_mail_private_hosts(self) -> str:
        if self.mail_private_hosts is not None:
            return self.mail_private_hosts
        return ALLOW if self.is_dev else DENY

    @property
    def mail_host_policy(self) -> HostPolicy:
        return host_policy(self.effective_mail_private_hosts)

    @property
    def should_migrate_on_start(self) -> bool:
        return self.is_dev if self.migrate_on_start is None else self.migrate_on_start

    @property
    def effective_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def run_sync_in_process(self) -> bool:
        return self.sync_in_process if self.sync_in_process is not None else not self.redis_url

    def previous_secrets(self) -> list[str]:
        return [secret.get_secret_value() for secret in self.secret_key_previous]

    def secret(self) -> str:
        """The secret in force; in dev, generated once and kept in the data folder.

        Keeping it on disk means a restart of `make run` does not sign everyone out.
        """
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        return _dev_secret(self.data_dir)


DATA_DIR_MODE = 0o700


def make_data_dir(data_dir: Path) -> None:
    """Create the data folder owner-only: it holds the database (mail, password hashes, sealed
    mailbox passwords), the blobs and the dev secret.

    A folder that already exists keeps its mode: it may be an administrator's choice (a volume,
    a backup group's access); the files that matter inside are created 0600 whatever it is."""
    data_dir.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)


def secret_file(data_dir: Path) -> Path:
    """Where the dev secret is kept (what `Settings.secret()` uses without POSTWISE_SECRET_KEY)."""
    return data_dir / _SECRET_FILE


def _dev_secret(data_dir: Path) -> str:
    path = data_dir / _SECRET_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    make_data_dir(data_dir)
    value = secrets.token_urlsafe(48)
    # O_EXCL: if two processes start at once, one writes and the other reads the winner's value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
