"""The assistant's API (docs/api.md, "Assistant"): settings, usage, feedback, thread summaries,
analysis, reply drafts (streamed), and the dashboard's figures."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from starlette.responses import StreamingResponse

from postwise.ai import service
from postwise.ai.deps import AiDep
from postwise.ai.engine import AiSettingsError
from postwise.ai.schemas import (
    AiDraftRequest,
    AiOverview,
    AiSettingsOut,
    AiSettingsUpdate,
    AiTestResult,
    AnalysisOut,
    AnalyzeRequest,
    Feedback,
    FeedbackResult,
    ThreadSummaryOut,
    UsageDay,
    UsageOut,
)
from postwise.auth.deps import CurrentUser
from postwise.auth.throttle import AI, throttled
from postwise.compose import service as compose
from postwise.compose.models import ComposeMode
from postwise.compose.schemas import DraftCreate, DraftUpdate
from postwise.deps import ServicesDep, SessionDep
from postwise.events import EventType, announce
from postwise.kit.errors import ProblemError, problem_responses
from postwise.kit.ids import not_found_if_invalid
from postwise.worker.queue import transaction

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/ai", tags=["ai"], responses=problem_responses(401, 422))

ThreadId = Annotated[uuid.UUID, PathParam(), not_found_if_invalid("thread")]


async def _settings_out(db: SessionDep, ai: AiDep, user_id: uuid.UUID) -> AiSettingsOut:
    effective = await ai.assistant.settings_for(db, user_id)
    return AiSettingsOut(
        provider=effective.provider,
        model=effective.model,
        base_url=effective.base_url,
        remote=effective.remote,
        has_own_key=effective.has_own_key,
        daily_budget_usd=effective.daily_budget_usd,
        redact=effective.redact,
        important_share=effective.important_share,
        triage=await service.progress(db, user_id),
    )


@router.get("/settings", response_model=AiSettingsOut)
async def get_settings(user: CurrentUser, db: SessionDep, ai: AiDep) -> AiSettingsOut:
    return await _settings_out(db, ai, user.id)


@router.patch(
    "/settings",
    response_model=AiSettingsOut,
    description="Only the fields sent change. `api_key` is stored sealed and never returned.",
)
async def update_settings(
    body: AiSettingsUpdate, user: CurrentUser, db: SessionDep, ai: AiDep
) -> AiSettingsOut:
    try:
        await ai.assistant.update_settings(db, user.id, body)
    except AiSettingsError as error:
        raise ProblemError(422, error.code, str(error), field="provider") from None
    return await _settings_out(db, ai, user.id)


@router.post(
    "/settings/test",
    response_model=AiTestResult,
    responses=problem_responses(429),
    dependencies=[throttled(AI)],
    description="One small request to the provider you would use now.",
)
async def test_settings(user: CurrentUser, db: SessionDep, ai: AiDep) -> AiTestResult:
    result = await ai.assistant.test_connection(db, user.id)
    return AiTestResult(
        ok=result.ok,
        provider=result.provider,
        model=result.model,
        latency_ms=round(result.latency_ms, 1),
        error_code=result.error_code,
    )


@router.get("/usage", response_model=UsageOut)
async def usage(
    user: CurrentUser,
    db: SessionDep,
    ai: AiDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> UsageOut:
    report = await ai.assistant.usage_report(db, user.id, days=days)
    return UsageOut(
        items=[UsageDay.model_validate(item, from_attributes=True) for item in report.items],
        today_cost_usd=report.today_cost_usd,
        daily_budget_usd=report.daily_budget_usd,
    )


@router.get("/overview", response_model=AiOverview)
async def overview(user: CurrentUser, db: SessionDep, ai: AiDep) -> AiOverview:
    return await service.overview(db, ai.assistant, user.id)


@router.post(
    "/feedback",
    response_model=FeedbackResult,
    responses=problem_responses(404),
    description="Important / not important, or the right category. Kept over later triage, "
    "and taught to the learner: the sender's next message is ranked with it. A message not "
    "triaged yet is triaged first.",
)
async def feedback(
    body: Feedback, user: CurrentUser, db: SessionDep, services: ServicesDep, ai: AiDep
) -> FeedbackResult:
    result = await service.feedback(db, ai, user.id, body)
    await db.commit()
    data = {
        "message_ids": [result.message_id],
        "thread_ids": [str(result.thread_id)] if result.thread_id else [],
        "important_message_ids": [result.message_id] if result.important else [],
    }
    await announce(services.store, user.id, EventType.MESSAGE_TRIAGED, data)
    return result


@router.get(
    "/threads/{thread_id}/summary",
    response_model=ThreadSummaryOut,
    responses=problem_responses(404, 429),
    dependencies=[throttled(AI)],
    description="Key points, open questions and action items; recomputed when a message joins.",
)
async def thread_summary(
    thread_id: ThreadId, user: CurrentUser, db: SessionDep, ai: AiDep
) -> ThreadSummaryOut:
    return await service.thread_summary(db, ai.assistant, user.id, thread_id)


@router.post(
    "/analyze",
    response_model=AnalysisOut,
    responses=problem_responses(404, 429),
    dependencies=[throttled(AI)],
)
async def analyze(
    body: AnalyzeRequest, user: CurrentUser, db: SessionDep, ai: AiDep
) -> AnalysisOut:
    return await service.analyze(db, ai.assistant, user.id, body.message_id)


@router.post(
    "/drafts",
    responses={
        **problem_responses(404, 409, 429),
        200: {
            "description": "Newline-delimited JSON: `{type: draft, draft}` first (a reply draft "
            "in the composer's outbox-free state), then `{type: delta, text}` pieces as they "
            "are written, then `{type: done, draft, provider, model}` once the text is saved "
            "in the draft; `{type: error, code}` if the provider failed mid-way (the draft "
            "keeps what was written).",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
    },
    dependencies=[throttled(AI)],
)
async def ai_draft(
    body: AiDraftRequest, user: CurrentUser, db: SessionDep, services: ServicesDep, ai: AiDep
) -> StreamingResponse:
    request, answered = await service.reply_request(db, user.id, body)
    draft = await compose.create_draft(
        db,
        user,
        DraftCreate(mode=ComposeMode.REPLY, reply_to_message_id=answered.id),
        settings=services.settings,
    )
    await db.commit()

    async def stream() -> AsyncIterator[bytes]:
        yield _line({"type": "draft", "draft": draft.model_dump(mode="json")})
        written: list[str] = []
        error: str | None = None
        provider: str | None = None
        model: str | None = None
        try:
            async with transaction(services.sessionmaker, services.jobs) as session:
                pieces = ai.assistant.reply(session, user_id=user.id, request=request)
                async with contextlib.aclosing(pieces):
                    async for piece in pieces:
                        written.append(piece)
                        yield _line({"type": "delta", "text": piece})
                provider, model = pieces.provider, pieces.model
                if pieces.interrupted:
                    error = "provider_interrupted"
        except Exception:
            log.exception("ai_draft_failed")
            error = "provider_failed"
        async with transaction(services.sessionmaker, services.jobs) as session:
            text, html_body = service.with_reply(draft.text, draft.html, "".join(written))
            saved = await compose.update_draft(
                session, user.id, draft.id, DraftUpdate(text=text, html=html_body)
            )
        if error is not None:
            yield _line({"type": "error", "code": error, "draft": saved.model_dump(mode="json")})
            return
        yield _line(
            {
                "type": "done",
                "draft": saved.model_dump(mode="json"),
                "provider": provider,
                "model": model,
            }
        )

    return StreamingResponse(stream(), media_type="application/x-ndjson")


def _line(payload: dict[str, object]) -> bytes:
    return (json.dumps(payload, default=str) + "\n").encode()
