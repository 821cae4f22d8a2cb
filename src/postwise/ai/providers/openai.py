"""Any OpenAI-compatible server (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp)
through the official SDK.

The SDK's own retries are off (`max_retries=0`): retrying here lets each attempt be counted
(tokens, and the circuit breaker upstream) and bounds the total wait, which the SDK's loop does
not. Timeouts are not retried: a server that let one request run out its time will most likely
do it again, and the caller would wait several timeouts before the local answer.

Errors come out as `ProviderError` with a stable `code`; the engine turns every one of them into
the local provider's answer. A structured answer that is not valid JSON for the schema gets one
repair request (the error is sent back); a second bad answer raises `InvalidAnswerError`.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import openai
from openai import AsyncOpenAI
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ValidationError

from postwise.ai.mailview import MailView
from postwise.ai.providers.base import ReplyRequest, TaskSpec
from postwise.ai.providers.errors import (
    UNAVAILABLE,
    ErrorCode,
    InvalidAnswerError,
    ProviderError,
    Usage,
)
from postwise.ai.specs import mail_prompt, new_tag, reply_instructions
from postwise.config import Settings

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (Ollama, llama.cpp) take any key, but the SDK refuses to run without one.
NO_KEY = "no-key"

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# A Retry-After longer than this is not waited for: the local provider answers instead.
MAX_RETRY_AFTER_SECONDS = 30.0
MAX_EMBED_CHARS = 8_000
# What of a bad answer is sent back in the repair request.
MAX_ECHO_CHARS = 4_000

__all__ = [
    "UNAVAILABLE",
    "ErrorCode",
    "InvalidAnswerError",
    "OpenAIProvider",
    "ProviderError",
    "Usage",
    "provider_from_settings",
]

REPAIR_PROMPT = (
    "Your answer is not valid: {error}\n"
    "Answer again with only the corrected JSON object matching the schema, nothing else."
)

_STRICT_REFUSES = frozenset({"default", "maxLength", "minLength", "title"})


def strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the form strict structured outputs accept: every property
    required (optional ones are already nullable), no extra properties, and none of the
    keywords strict mode refuses. Lengths are still checked by pydantic on the answer."""

    def walk(node: object) -> object:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, object] = {}
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                # Names, not keywords: a property may well be called "title".
                out[key] = {name: walk(sub) for name, sub in value.items()}
            elif key not in _STRICT_REFUSES:
                out[key] = walk(value)
        properties = out.get("properties")
        if out.get("type") == "object" and isinstance(properties, dict):
            out["required"] = list(properties)
            out["additionalProperties"] = False
        return out

    result = walk(schema.model_json_schema())
    assert isinstance(result, dict)
    return result


def response_format(spec: TaskSpec[T]) -> ResponseFormatJSONSchema:
    return {
        "type": "json_schema",
        "json_schema": {"name": spec.name, "schema": strict_schema(spec.schema), "strict": True},
    }


def parse_answer(schema: type[T], content: str) -> T:
    """The answer as `schema`, or InvalidAnswerError saying what is wrong with it."""
    text = content.strip()
    if text.startswith("```"):
        # Some servers fence JSON even when asked for a schema; not worth a repair request.
        text = text.split("\n", 1)[-1].rsplit("```", 1)[0]
    if not text:
        raise InvalidAnswerError("the answer is empty")
    try:
        return schema.model_validate_json(text)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False)
        ]
        raise InvalidAnswerError("; ".join(problems)[:1000]) from error


def _retry_after(response: object) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _classify(error: openai.OpenAIError) -> ProviderError:
    if isinstance(error, openai.APITimeoutError):
        return ProviderError("timeout", str(error))
    if isinstance(error, openai.APIConnectionError):
        return ProviderError("connection", str(error))
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        code: ErrorCode
        if status == 429:
            code = "rate_limited"
        elif status >= 500:
            code = "server_error"
        elif status in (401, 403):
            code = "unauthorized"
        elif status == 404:
            code = "not_found"
        else:
            code = "bad_request"
        return ProviderError(code, f"HTTP {status}")
    return ProviderError("bad_request", str(error))


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        embedding_model: str = "text-embedding-3-small",
        backoff_seconds: float = BACKOFF_BASE_SECONDS,
    ) -> None:
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.embedding_model = embedding_model
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        # Explicit base URL and key: the SDK would otherwise read OPENAI_* variables, and
        # only POSTWISE_* settings configure Postwise.
        self._client = AsyncOpenAI(
            base_url=self.base_url,
            api_key=api_key or NO_KEY,
            timeout=timeout,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    async def structured(
        self, spec: TaskSpec[T], mails: Sequence[MailView], *, usage: Usage | None = None
    ) -> T:
        usage = usage if usage is not None else Usage()
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": spec.instructions},
            {"role": "user", "content": self._mail_message(mails)},
        ]
        answer = await self._complete(messages, response_format(spec), usage)
        try:
            return parse_answer(spec.schema, answer)
        except InvalidAnswerError as error:
            messages += [
                {"role": "assistant", "content": answer[:MAX_ECHO_CHARS]},
                {"role": "user", "content": REPAIR_PROMPT.format(error=error.detail)},
            ]
        return parse_answer(
            spec.schema, await self._complete(messages, response_format(spec), usage)
        )

    async def reply(
        self, request: ReplyRequest, *, usage: Usage | None = None
    ) -> AsyncIterator[str]:
        usage = usage if usage is not None else Usage()
        system = reply_instructions(request.tone, request.instruction, request.style)
        prompt = self._mail_message(request.thread)
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": prompt},
        ]
        stream = await self._retrying(
            lambda: self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            ),
            usage,
        )
        written: list[str] = []
        reported: CompletionUsage | None = None
        try:
            async with stream:
                async for chunk in stream:
                    reported = chunk.usage or reported
                    for choice in chunk.choices:
                        if choice.delta.content:
                            written.append(choice.delta.content)
                            yield choice.delta.content
        except openai.OpenAIError as error:
            raise _classify(error) from error
        except ValueError as error:  # a chunk that is not JSON
            raise ProviderError("bad_request", f"unreadable stream: {error}") from error
        finally:
            usage.add(reported, sent=system + prompt, received="".join(written))

    async def embed(
        self, texts: Sequence[str], *, usage: Usage | None = None
    ) -> list[list[float]] | None:
        """Vectors for `texts`; None when the server offers no embeddings (404)."""
        if not texts:
            return []
        usage = usage if usage is not None else Usage()
        inputs = [text[:MAX_EMBED_CHARS] for text in texts]
        try:
            response = await self._retrying(
                lambda: self._client.embeddings.create(
                    model=self.embedding_model, input=inputs, encoding_format="float"
                ),
                usage,
            )
        except ProviderError as error:
            if error.code == "not_found":
                return None
            raise
        if response.usage is not None:
            usage.prompt_tokens += response.usage.prompt_tokens
        ordered = sorted(response.data, key=lambda item: item.index)
        return [list(item.embedding) for item in ordered]

    async def ping(self, *, usage: Usage | None = None) -> float:
        """One tiny request, no retries: the seconds it took. Raises ProviderError."""
        usage = usage if usage is not None else Usage()
        prompt = "Answer with the single word OK."
        started = time.perf_counter()
        completion = await self._retrying(
            lambda: self._client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": prompt}]
            ),
            usage,
            retries=0,
        )
        elapsed = time.perf_counter() - started
        text = completion.choices[0].message.content if completion.choices else None
        usage.add(completion.usage, sent=prompt, received=text or "")
        return elapsed

    def _mail_message(self, mails: Sequence[MailView]) -> str:
        owner = sorted(mails[-1].user_addresses) if mails else []
        return mail_prompt(mails, tag=new_tag(), user_addresses=owner)

    async def _complete(
        self,
        messages: list[ChatCompletionMessageParam],
        format_: ResponseFormatJSONSchema,
        usage: Usage,
    ) -> str:
        completion = await self._retrying(
            lambda: self._client.chat.completions.create(
                model=self.model, messages=messages, response_format=format_
            ),
            usage,
        )
        choice = completion.choices[0] if completion.choices else None
        content = (choice.message.content if choice else None) or ""
        usage.add(completion.usage, sent=json.dumps(messages), received=content)
        return content

    async def _retrying(
        self, call: Callable[[], Awaitable[R]], usage: Usage, *, retries: int | None = None
    ) -> R:
        allowed = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            usage.requests += 1
            try:
                return await call()
            except openai.OpenAIError as error:
                failure = _classify(error)
                wait = self._wait_before_retry(error, failure, attempt, allowed)
                if wait is None:
                    raise failure from error
            await asyncio.sleep(wait)
            attempt += 1

    def _wait_before_retry(
        self, error: openai.OpenAIError, failure: ProviderError, attempt: int, allowed: int
    ) -> float | None:
        if attempt >= allowed or failure.code not in ("rate_limited", "server_error", "connection"):
            return None
        hinted = _retry_after(getattr(error, "response", None))
        if hinted is not None:
            return hinted if hinted <= MAX_RETRY_AFTER_SECONDS else None
        # Exponential backoff, the second half of each step random: clients that failed
        # together do not all come back at the same instant.
        ceiling = min(BACKOFF_CAP_SECONDS, self.backoff_seconds * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)


def provider_from_settings(settings: Settings) -> OpenAIProvider:
    """The instance's remote provider (for `postwise eval --provider openai`)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not settings.openai_base_url and not key:
        raise ValueError(
            "the openai provider needs POSTWISE_OPENAI_BASE_URL or POSTWISE_OPENAI_API_KEY"
        )
    return OpenAIProvider(
        base_url=settings.openai_base_url,
        api_key=key,
        model=settings.openai_model,
        timeout=settings.ai_timeout_seconds,
        max_retries=settings.ai_max_retries,
        embedding_model=settings.openai_embedding_model,
    )
