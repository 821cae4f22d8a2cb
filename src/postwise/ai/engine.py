"""The assistant: which provider answers a user, and everything around a remote call.

One `Assistant` is built in the lifespan. For each request it resolves the user's provider (their
choice or the instance's; `openai` only when a server or key is configured), then for a remote
provider: the cache first, then the daily budget, the circuit breaker and the concurrency limit,
redaction when asked, the call itself, and usage accounting. Whatever goes wrong remotely (a
timeout, an outage, a bad answer, the budget) the local provider answers instead, and the answer
says so (`fallback`).

Nothing here commits: every method takes the caller's session, and remote calls are made before
any write, so a slow model never holds a write lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.ai import cache, usage
from postwise.ai.breaker import Breakers, CircuitBreaker
from postwise.ai.mailview import MailView
from postwise.ai.models import AiSettings
from postwise.ai.providers.base import Provider, ReplyRequest, TaskSpec
from postwise.ai.providers.errors import ProviderError, Usage
from postwise.ai.providers.local import LocalProvider
from postwise.ai.redact import Redactor
from postwise.ai.specs import TRIAGE
from postwise.ai.usage import DayUsage
from postwise.config import Settings
from postwise.kit.crypto import DecryptionError, Keyring
from postwise.observability.metrics import Metrics

if TYPE_CHECKING:
    from postwise.ai.providers.openai import OpenAIProvider

T = TypeVar("T", bound=BaseModel)

log = structlog.get_logger(__name__)

KEY_PURPOSE = "ai-key"
# Remote clients kept for reuse (one per server, key and model). One dropped from the table is
# not closed: a request may still be using it; its idle connections time out on their own.
MAX_CLIENTS = 256

ProviderName = Literal["local", "openai"]
# Why the local provider answered although the user's provider is remote: a ProviderError
# code, or one of these.
BUDGET = "budget"
BREAKER = "breaker"
DEFAULT_IMPORTANT_SHARE = 0.2
# A shared remote call's result: the answer as stored in the cache, or None and why not.
_Outcome = tuple[dict[str, Any] | None, str | None]

_SAMPLE = MailView(
    subject="Lunch on Friday?",
    from_name="Dana",
    from_address="dana@example.com",
    text="Hi, are you free for lunch on Friday at noon?\n\nDana",
    to=("you@example.com",),
)


@dataclass(frozen=True)
class Answer(Generic[T]):
    result: T
    provider: str
    model: str
    cached: bool = False
    fallback: str | None = None


@dataclass(frozen=True)
class EffectiveAiSettings:
    provider: ProviderName  # who answers this user now
    model: str
    base_url: str | None  # the remote server (no credentials), None when mail stays here
    has_own_key: bool
    daily_budget_usd: float
    redact: bool
    remote: bool  # mail leaves the machine
    chosen_provider: ProviderName | None  # the user's own choice; None: the instance's
    spent_today_usd: float
    important_share: float


class AiSettingsPatch(BaseModel):
    """A change to a user's AI settings: only the fields given are changed; null (or "" for
    text) puts back the instance default, and an empty api_key forgets the user's key."""

    model_config = ConfigDict(extra="forbid")

    provider: ProviderName | None = None
    model: str | None = Field(default=None, max_length=128)
    api_key: SecretStr | None = Field(default=None, max_length=512)
    daily_budget_usd: float | None = Field(default=None, ge=0, le=100_000)
    redact: bool | None = None
    important_share: float | None = Field(default=None, ge=0.02, le=0.8)


class AiSettingsError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    provider: ProviderName
    model: str
    latency_ms: float  # until the answer, or until the failure
    error_code: str | None


@dataclass(frozen=True)
class UsageReport:
    items: list[DayUsage]  # newest day first
    today_cost_usd: float
    daily_budget_usd: float


@dataclass(frozen=True)
class _Route:
    provider: ProviderName
    model: str
    remote: OpenAIProvider | None
    breaker: CircuitBreaker | None
    budget: float
    redact: bool
    own_key: bool
    chosen: ProviderName | None


class ReplyStream:
    """A reply draft in pieces. `provider` and `model` are known once the first piece is out
    (the remote provider may fail before it and the local one answer); `interrupted` is true
    when the remote stream broke after text was sent. Consume it to the end or `aclose()` it
    (contextlib.aclosing) while the session is open: its usage is written at the end."""

    def __init__(self) -> None:
        self.provider: ProviderName | None = None
        self.model: str | None = None
        self.fallback: str | None = None
        self.interrupted = False
        self._pieces: AsyncIterator[str] | None = None

    def __aiter__(self) -> ReplyStream:
        return self

    async def __anext__(self) -> str:
        assert self._pieces is not None
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        close = getattr(self._pieces, "aclose", None)
        if close is not None:
            await close()


class Assistant:
    def __init__(
        self,
        settings: Settings,
        keyring: Keyring,
        *,
        local: Provider | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.keyring = keyring
        self.local: Provider = local if local is not None else LocalProvider()
        self.breakers = Breakers(settings.ai_breaker_failures, settings.ai_breaker_seconds, clock)
        self._slots = asyncio.Semaphore(settings.ai_max_concurrency)
        self._clients: OrderedDict[tuple[str, str, str], OpenAIProvider] = OrderedDict()
        # Identical requests in flight at once share one remote call (a message stored in two
        # folders, a retried job overtaking the first): key -> the shared outcome.
        self._inflight: dict[str, asyncio.Future[_Outcome]] = {}

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.close()

    # -- structured tasks ---------------------------------------------------------------

    async def structured(
        self,
        db: AsyncSession,
        *,
        user_id: uuid.UUID,
        spec: TaskSpec[T],
        mails: Sequence[MailView],
    ) -> Answer[T]:
        if not mails:
            raise ValueError("a task needs at least one message")
        route = await self._route(db, user_id)
        if route.remote is None:
            return await self._local_answer(spec, mails, fallback=None)
        redactor = Redactor() if route.redact else None
        # Redacted up front: the placeholders of a cached answer are restored from it too.
        sent = [redactor.mail(m) for m in mails] if redactor else list(mails)
        key = cache.cache_key(
            mails,
            task=spec.name,
            version=spec.version,
            provider=route.provider,
            model=route.model,
            redacted=redactor is not None,
        )
        stored = await cache.lookup(db, key)
        reason: str | None = None
        if stored is None and key in self._inflight:
            stored, reason = await asyncio.shield(self._inflight[key])
        if stored is not None:
            hit = _revive(spec.schema, stored, redactor)
            if hit is not None:
                if self.metrics is not None:
                    self.metrics.ai_cache_hits.labels(task=spec.name).inc()
                await self._count(db, user_id, route, cache_hits=1)
                return Answer(hit, route.provider, route.model, cached=True)
        if self.metrics is not None:
            self.metrics.ai_cache_misses.labels(task=spec.name).inc()
        if reason is not None:
            return await self._local_answer(spec, mails, fallback=reason)
        return await self._remote_answer(db, user_id, route, spec, mails, sent, key, redactor)

    async def _remote_answer(
        self,
        db: AsyncSession,
        user_id: uuid.UUID,
        route: _Route,
        spec: TaskSpec[T],
        mails: Sequence[MailView],
        sent: Sequence[MailView],
        key: str,
        redactor: Redactor | None,
    ) -> Answer[T]:
        assert route.remote is not None
        # Registered before the first await, so a twin arriving meanwhile waits for it.
        flight: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        self._inflight.setdefault(key, flight)
        meter = Usage()
        outcome: _Outcome = (None, "cancelled")
        try:
            outcome = (None, await self._blocked(db, user_id, route))
            if outcome[1] is None:
                async with self._remote_call(route):
                    result = await route.remote.structured(spec, sent, usage=meter)
                outcome = (result.model_dump(mode="json"), None)
        except ProviderError as error:
            log.warning("ai_remote_failed", task=spec.name, code=error.code)
            outcome = (None, error.code)
        finally:
            flight.set_result(outcome)
            if self._inflight.get(key) is flight:
                del self._inflight[key]
        self._measure(route, spec.name, outcome[1], meter)
        await self._count(db, user_id, route, meter=meter, calls=1)
        stored, reason = outcome
        answer = _revive(spec.schema, stored, redactor) if stored is not None else None
        if stored is None or answer is None:
            return await self._local_answer(spec, mails, fallback=reason)
        await cache.store(db, key=key, task=spec.name, result=stored)
        return Answer(answer, route.provider, route.model)

    async def _local_answer(
        self, spec: TaskSpec[T], mails: Sequence[MailView], *, fallback: str | None
    ) -> Answer[T]:
        result = await self.local.structured(spec, mails)
        if self.metrics is not None:
            self.metrics.ai_call("local", spec.name, "ok")
        return Answer(result, "local", self.local.model, fallback=fallback)

    # -- reply drafts -------------------------------------------------------------------

    def reply(self, db: AsyncSession, *, user_id: uuid.UUID, request: ReplyRequest) -> ReplyStream:
        stream = ReplyStream()
        stream._pieces = self._reply(stream, db, user_id, request)
        return stream

    async def _reply(
        self, stream: ReplyStream, db: AsyncSession, user_id: uuid.UUID, request: ReplyRequest
    ) -> AsyncIterator[str]:
        route = await self._route(db, user_id)
        if route.remote is not None:
            reason = await self._blocked(db, user_id, route)
            if reason is None:
                remote = self._remote_reply(stream, db, user_id, route, request)
                async with _closing(remote) as pieces:
                    async for piece in pieces:
                        yield piece
                if stream.provider is not None:
                    return
            else:
                stream.fallback = reason
                self._measure(route, "reply", reason, None)
        stream.provider, stream.model = "local", self.local.model
        if self.metrics is not None:
            self.metrics.ai_call("local", "reply", "ok")
        async with _closing(self.local.reply(request)) as pieces:
            async for piece in pieces:
                yield piece

    async def _remote_reply(
        self,
        stream: ReplyStream,
        db: AsyncSession,
        user_id: uuid.UUID,
        route: _Route,
        request: ReplyRequest,
    ) -> AsyncIterator[str]:
        """The remote draft; leaves `stream.provider` unset when it failed before any text
        (the caller then asks the local provider)."""
        assert route.remote is not None
        redactor = Redactor() if route.redact else None
        sent = request
        if redactor is not None:
            thread = [redactor.mail(m) for m in request.thread]
            sent = ReplyRequest(thread, request.tone, request.instruction, request.style)
        restorer = redactor.stream() if redactor else None
        meter = Usage()
        failure: str | None = None
        try:
            async with (
                self._remote_call(route),
                _closing(route.remote.reply(sent, usage=meter)) as pieces,
            ):
                async for piece in pieces:
                    text = restorer.feed(piece) if restorer else piece
                    if stream.provider is None:
                        stream.provider, stream.model = route.provider, route.model
                    if text:
                        yield text
            if restorer is not None and (tail := restorer.flush()):
                yield tail
        except ProviderError as error:
            log.warning("ai_remote_failed", task="reply", code=error.code)
            failure = error.code
            if stream.provider is not None:
                stream.interrupted = True
            else:
                stream.fallback = error.code
        finally:
            self._measure(route, "reply", failure, meter)
            await self._count(db, user_id, route, meter=meter, calls=1)

    # -- settings -----------------------------------------------------------------------

    async def settings_for(self, db: AsyncSession, user_id: uuid.UUID) -> EffectiveAiSettings:
        row = await db.get(AiSettings, user_id)
        route = await self._route(db, user_id, row=row)
        remote = route.remote
        return EffectiveAiSettings(
            provider=route.provider,
            model=route.model,
            base_url=_shown_url(remote.base_url) if remote is not None else None,
            has_own_key=bool(row and row.api_key_sealed),
            daily_budget_usd=route.budget,
            redact=route.redact,
            remote=remote is not None,
            chosen_provider=route.chosen,
            spent_today_usd=await usage.spent(db, user_id, day=usage.today()),
            important_share=row.important_share if row is not None else DEFAULT_IMPORTANT_SHARE,
        )

    async def update_settings(
        self, db: AsyncSession, user_id: uuid.UUID, patch: BaseModel
    ) -> EffectiveAiSettings:
        """Apply the fields `patch` sets (any model with AiSettingsPatch's field names, e.g.
        the API's); raises AiSettingsError (code ai_provider_unavailable) when the result asks
        for a remote provider that has neither a server nor a key to use."""
        change = AiSettingsPatch.model_validate(patch.model_dump(exclude_unset=True))
        given = change.model_fields_set
        row = await self._settings_row(db, user_id)
        if "provider" in given:
            row.provider = change.provider
        if "model" in given:
            row.model = (change.model or "").strip() or None
        if "api_key" in given:
            key = change.api_key.get_secret_value().strip() if change.api_key else ""
            row.api_key_sealed = self.keyring.encrypt(key, KEY_PURPOSE) if key else None
        if "daily_budget_usd" in given:
            row.daily_budget_usd = change.daily_budget_usd
        if "redact" in given:
            row.redact = bool(change.redact)
        if "important_share" in given:
            row.important_share = change.important_share or DEFAULT_IMPORTANT_SHARE
        wanted = row.provider or self.settings.ai_provider
        if wanted == "openai" and not self._remote_configured(own_key=bool(row.api_key_sealed)):
            raise AiSettingsError(
                "ai_provider_unavailable",
                "the openai provider needs a server address (POSTWISE_OPENAI_BASE_URL) or "
                "an API key, and this instance has neither: add your own key",
            )
        await db.flush()
        return await self.settings_for(db, user_id)

    async def _settings_row(self, db: AsyncSession, user_id: uuid.UUID) -> AiSettings:
        insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
        # Created if missing in one statement: two first saves at once do not collide.
        await db.execute(
            insert(AiSettings)
            .values(
                user_id=user_id,
                redact=False,
                important_share=DEFAULT_IMPORTANT_SHARE,
                backfill_done=False,
            )
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        row = await db.get(AiSettings, user_id, populate_existing=True)
        assert row is not None
        return row

    # -- connection test and usage ------------------------------------------------------

    async def test_connection(self, db: AsyncSession, user_id: uuid.UUID) -> ConnectionTest:
        """One small request to the user's provider, past the breaker and the budget (the
        user asked for it); its tokens are counted."""
        route = await self._route(db, user_id)
        started = time.perf_counter()
        if route.remote is None:
            await self.local.structured(TRIAGE, [_SAMPLE])
            return ConnectionTest(True, "local", route.model, _ms_since(started), None)
        meter = Usage()
        try:
            async with self._slots:
                await route.remote.ping(usage=meter)
        except ProviderError as error:
            return ConnectionTest(
                False, route.provider, route.model, _ms_since(started), error.code
            )
        finally:
            await self._count(db, user_id, route, meter=meter, calls=1)
        return ConnectionTest(True, route.provider, route.model, _ms_since(started), None)

    async def usage(self, db: AsyncSession, user_id: uuid.UUID, days: int = 30) -> list[DayUsage]:
        """The user's usage rows of the last `days` UTC days (today included), newest first."""
        return await usage.history(db, user_id, days=days, until=usage.today())

    async def usage_report(
        self, db: AsyncSession, user_id: uuid.UUID, days: int = 30
    ) -> UsageReport:
        route = await self._route(db, user_id)
        items = await self.usage(db, user_id, days)
        today = usage.today()
        spent = sum(item.cost_usd for item in items if item.day == today)
        return UsageReport(items=items, today_cost_usd=spent, daily_budget_usd=route.budget)

    # -- internals ----------------------------------------------------------------------

    def _remote_configured(self, *, own_key: bool) -> bool:
        return bool(self.settings.openai_base_url or self.settings.openai_api_key or own_key)

    async def _route(
        self, db: AsyncSession, user_id: uuid.UUID, *, row: AiSettings | None = None
    ) -> _Route:
        if row is None:
            row = await db.get(AiSettings, user_id)
        chosen: ProviderName | None = None
        if row is not None and row.provider in ("local", "openai"):
            chosen = "openai" if row.provider == "openai" else "local"
        wanted = chosen or self.settings.ai_provider
        redact = self.settings.ai_redact or bool(row and row.redact)
        own_key = self._own_key(row)
        instance_key = self.settings.openai_api_key
        key = own_key or (instance_key.get_secret_value() if instance_key else None)
        budget = self.settings.ai_daily_budget_usd
        if row is not None and row.daily_budget_usd is not None:
            # Above the instance's budget only on the user's own key: the instance pays
            # for its key, the user for theirs.
            mine = row.daily_budget_usd
            budget = mine if own_key else min(mine, budget)
        if wanted != "openai" or not (self.settings.openai_base_url or key):
            return _Route("local", self.local.model, None, None, budget, redact, False, chosen)
        model = (row.model if row is not None else None) or self.settings.openai_model
        remote = self._client(key, model)
        breaker = self.breakers.get(remote.base_url, model)
        return _Route("openai", model, remote, breaker, budget, redact, bool(own_key), chosen)

    def _own_key(self, row: AiSettings | None) -> str | None:
        if row is None or not row.api_key_sealed:
            return None
        try:
            return self.keyring.decrypt(row.api_key_sealed, KEY_PURPOSE)
        except DecryptionError:
            # The secret changed without POSTWISE_SECRET_KEY_PREVIOUS: the key is lost and
            # the user must enter it again; until then the instance's key (if any) is used.
            log.warning("ai_own_key_unreadable", user_id=str(row.user_id))
            return None

    def _client(self, key: str | None, model: str) -> OpenAIProvider:
        base_url = self.settings.openai_base_url or ""
        fingerprint = hashlib.sha256((key or "").encode()).hexdigest()
        slot = (base_url, fingerprint, model)
        client = self._clients.get(slot)
        if client is None:
            # Imported on first use: the `openai` SDK costs about 0.5 s of CPU to import, which
            # an instance with only the local provider never needs.
            from postwise.ai.providers.openai import OpenAIProvider

            client = OpenAIProvider(
                base_url=self.settings.openai_base_url,
                api_key=key,
                model=model,
                timeout=self.settings.ai_timeout_seconds,
                max_retries=self.settings.ai_max_retries,
                embedding_model=self.settings.openai_embedding_model,
            )
            self._clients[slot] = client
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(slot)
        return client

    async def _blocked(self, db: AsyncSession, user_id: uuid.UUID, route: _Route) -> str | None:
        """Why the remote provider may not be asked now. The budget is read first: the
        breaker hands its one half-open probe to whoever asks, who must then use it."""
        if await usage.spent(db, user_id, day=usage.today()) >= route.budget:
            return BUDGET
        if route.breaker is not None and not route.breaker.allow():
            return BREAKER
        return None

    @asynccontextmanager
    async def _remote_call(self, route: _Route) -> AsyncIterator[None]:
        """A slot under the concurrency limit, and the outcome told to the breaker."""
        assert route.breaker is not None
        async with self._slots:
            try:
                yield
            except ProviderError as error:
                route.breaker.record(ok=not error.server_unavailable)
                raise
            except BaseException:
                route.breaker.release()  # cancelled: nothing learned about the server
                raise
            route.breaker.record(ok=True)

    def _measure(self, route: _Route, task: str, failure: str | None, meter: Usage | None) -> None:
        """Prometheus: one remote call's outcome and tokens. `failure` is a ProviderError code
        (reported as "error": codes are for logs, outcomes are a fixed set), the budget or the
        breaker; "cancelled" (the caller went away first) is not a call."""
        if self.metrics is None or failure == "cancelled":
            return
        outcome = "ok" if failure is None else failure if failure in (BUDGET, BREAKER) else "error"
        self.metrics.ai_call(
            route.provider,
            task,
            outcome,
            prompt=meter.prompt_tokens if meter else 0,
            completion=meter.completion_tokens if meter else 0,
        )

    async def _count(
        self,
        db: AsyncSession,
        user_id: uuid.UUID,
        route: _Route,
        *,
        meter: Usage | None = None,
        calls: int = 0,
        cache_hits: int = 0,
    ) -> None:
        if meter is not None and meter.requests == 0:
            return  # nothing reached the server (the budget or the breaker said no)
        prompt = meter.prompt_tokens if meter else 0
        completion = meter.completion_tokens if meter else 0
        await usage.record(
            db,
            user_id=user_id,
            provider=route.provider,
            model=route.model,
            day=usage.today(),
            calls=calls,
            cache_hits=cache_hits,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=usage.cost_usd(self.settings, prompt_tokens=prompt, completion_tokens=completion),
        )


@asynccontextmanager
async def _closing(pieces: AsyncIterator[str]) -> AsyncIterator[AsyncIterator[str]]:
    """Close a provider's stream however the loop over it ends: an abandoned async generator
    would otherwise run its cleanup later, after the caller's session is gone."""
    try:
        yield pieces
    finally:
        close = getattr(pieces, "aclose", None)
        if close is not None:
            await close()


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _revive(schema: type[T], stored: dict[str, Any], redactor: Redactor | None) -> T | None:
    """A stored answer as `schema`, placeholders restored; None when it no longer fits the
    schema (then it is asked again). An answer that only fits redacted (a restored address
    makes a line too long) is given with its placeholders."""
    try:
        plain = schema.model_validate(stored)
    except ValidationError:
        return None
    if redactor is None:
        return plain
    try:
        return schema.model_validate(redactor.restore_all(stored))
    except ValidationError:
        return plain


def _shown_url(url: str) -> str:
    """The server's address without any user:password@ it may carry."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
