"""What the assistant's routes do: feedback, thread summaries, analysis, reply drafts, the
dashboard's figures. Services never commit; the route's transaction does."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.ai import learning, pipeline
from postwise.ai.engine import Assistant
from postwise.ai.local.style import learn_style
from postwise.ai.mailview import MailView
from postwise.ai.providers.base import ReplyRequest, Style
from postwise.ai.schemas import (
    AiDraftRequest,
    AiOverview,
    AnalysisOut,
    CategoryCount,
    Feedback,
    FeedbackResult,
    ThreadSummaryOut,
    TriageProgress,
)
from postwise.ai.services import AiServices
from postwise.ai.specs import ANALYSIS, THREAD_SUMMARY
from postwise.db import utcnow
from postwise.events import observe_actions
from postwise.kit.errors import ProblemError
from postwise.mail.insights import insights_of, set_user_category, set_user_important
from postwise.mail.models import Folder, Message, MessageInsight, Thread, ThreadFolder
from postwise.mail.reading import owned_message

# How much of the user's sent mail teaches the reply style, and how much of a thread a
# summary or a reply reads (the newest messages).
STYLE_SAMPLE = 40
THREAD_WINDOW = 12


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, "not_found", f"No such {what}.")


async def feedback(
    db: AsyncSession, ai: AiServices, user_id: uuid.UUID, body: Feedback
) -> FeedbackResult:
    """The user's own verdict: kept over later triage, and taught to the learner (a job)."""
    if body.important is None and body.category is None:
        raise ProblemError(
            422, "empty_feedback", "Send `important`, `category`, or both.", field="important"
        )
    message = await owned_message(db, user_id, body.message_id)
    if message.id not in await insights_of(db, user_id, [message.id]):
        # Mail that has just arrived is listed before its triage job ran: the user's verdict
        # must not wait for it (or fail), so the message is triaged here first.
        await _triage_now(db, ai, user_id, message.id)
    if body.important is not None:
        await set_user_important(db, user_id, [message.id], important=body.important)
        action = "important" if body.important else "not_important"
        observe_actions(db, user_id, [message.id], action)
    if body.category is not None:
        await set_user_category(db, user_id, [message.id], category=body.category.value)
        observe_actions(db, user_id, [message.id], "recategorise", body.category.value)
    insight = (await insights_of(db, user_id, [message.id]))[message.id]
    return FeedbackResult(
        message_id=message.id,
        important=insight.important,
        category=insight.category,
        thread_id=message.thread_id,
    )


async def _triage_now(
    db: AsyncSession, ai: AiServices, user_id: uuid.UUID, message_id: int
) -> None:
    async with pipeline.user_lock(user_id):
        try:
            async with db.begin_nested():
                await pipeline.triage_messages(
                    db, ai.assistant, ai.pool, user_id=user_id, message_ids=[message_id]
                )
        except IntegrityError:
            # A worker process stored its triage of the message first: that one stands.
            pass


async def _thread_views(
    db: AsyncSession, user_id: uuid.UUID, thread_id: uuid.UUID
) -> tuple[list[Message], list[MailView], frozenset[str]]:
    owned = await db.scalar(
        select(Thread.id).where(Thread.id == thread_id, Thread.user_id == user_id)
    )
    if owned is None:
        raise _not_found("thread")
    rows = list(
        (
            await db.scalars(
                select(Message)
                .where(
                    Message.thread_id == thread_id,
                    Message.user_id == user_id,
                    Message.is_draft.is_(False),
                )
                .order_by(Message.received_at.desc(), Message.id.desc())
                .limit(THREAD_WINDOW * 2)
            )
        ).all()
    )
    # One copy of each mail (Gmail's All Mail holds a second one), oldest first.
    seen: set[str] = set()
    messages: list[Message] = []
    for row in rows:
        key = row.message_id or f"#{row.id}"
        if key not in seen:
            seen.add(key)
            messages.append(row)
    messages = list(reversed(messages[:THREAD_WINDOW]))
    if not messages:
        raise _not_found("thread")
    own = await learning.user_addresses(db, user_id)
    return messages, [learning.view_of_message(m, user_addresses=own) for m in messages], own


async def thread_summary(
    db: AsyncSession, assistant: Assistant, user_id: uuid.UUID, thread_id: uuid.UUID
) -> ThreadSummaryOut:
    """Recomputed when a message joins the thread: the cache key covers every message read."""
    _, views, _ = await _thread_views(db, user_id, thread_id)
    answer = await assistant.structured(db, user_id=user_id, spec=THREAD_SUMMARY, mails=views)
    return ThreadSummaryOut(
        **answer.result.model_dump(),
        thread_id=thread_id,
        provider=answer.provider,
        model=answer.model,
    )


async def analyze(
    db: AsyncSession, assistant: Assistant, user_id: uuid.UUID, message_id: int
) -> AnalysisOut:
    message = await owned_message(db, user_id, message_id)
    own = await learning.user_addresses(db, user_id)
    view = learning.view_of_message(message, user_addresses=own)
    answer = await assistant.structured(db, user_id=user_id, spec=ANALYSIS, mails=[view])
    return AnalysisOut(
        **answer.result.model_dump(),
        message_id=message.id,
        provider=answer.provider,
        model=answer.model,
    )


async def _style(db: AsyncSession, user_id: uuid.UUID, own: frozenset[str]) -> Style:
    rows = (
        await db.execute(
            select(
                Message.body_text, Message.quote_offset, Message.signature_offset, Message.from_name
            )
            .where(
                Message.user_id == user_id,
                Message.from_address.in_(list(own)),
                Message.is_draft.is_(False),
            )
            .order_by(Message.received_at.desc())
            .limit(STYLE_SAMPLE)
        )
    ).all()
    texts = []
    name = ""
    for text, quote, signature, from_name in rows:
        cuts = [o for o in (quote, signature) if o is not None]
        texts.append(text[: min(cuts)] if cuts else text)
        name = name or from_name
    return learn_style(texts, name=name.split(" ")[0] if name else "")


async def reply_request(
    db: AsyncSession, user_id: uuid.UUID, body: AiDraftRequest
) -> tuple[ReplyRequest, Message]:
    """What the model reads to draft a reply, and the message the reply answers (the newest
    one not written by the user, else the newest)."""
    messages, views, own = await _thread_views(db, user_id, body.thread_id)
    answered = next(
        (m for m in reversed(messages) if m.from_address.lower() not in own), messages[-1]
    )
    cut = messages.index(answered) + 1
    request = ReplyRequest(
        thread=views[:cut],
        tone=body.tone,
        instruction=body.instruction,
        style=await _style(db, user_id, own),
    )
    return request, answered


def with_reply(text: str, html_body: str | None, written: str) -> tuple[str, str | None]:
    """The draft's body with the written reply above what the composer prefilled (the
    signature and the quoted original)."""
    written = written.strip()
    new_text = f"{written}\n\n{text}" if text.strip() else written
    if html_body is None:
        return new_text, None
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in written.split("\n\n") if p
    )
    return new_text, paragraphs + html_body


async def progress(db: AsyncSession, user_id: uuid.UUID) -> TriageProgress:
    total = await db.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user_id, Message.is_draft.is_(False))
    )
    done = await db.scalar(
        select(func.count()).select_from(MessageInsight).where(MessageInsight.user_id == user_id)
    )
    return TriageProgress(total=total or 0, done=min(done or 0, total or 0))


async def overview(db: AsyncSession, assistant: Assistant, user_id: uuid.UUID) -> AiOverview:
    inbox = select(Folder.id).where(Folder.user_id == user_id, Folder.role == "inbox")
    in_inbox = select(ThreadFolder.thread_id).where(ThreadFolder.folder_id.in_(inbox))
    needs_reply = await db.scalar(
        select(func.count())
        .select_from(Thread)
        .where(Thread.user_id == user_id, Thread.ai_needs_reply.is_(True), Thread.id.in_(in_inbox))
    )
    important_unread = await db.scalar(
        select(func.count())
        .select_from(Thread)
        .where(
            Thread.user_id == user_id,
            Thread.ai_important.is_(True),
            Thread.unread_count > 0,
            Thread.id.in_(in_inbox),
        )
    )
    since = utcnow() - timedelta(days=30)
    categories = await db.execute(
        select(MessageInsight.category, func.count())
        .join(Message, Message.id == MessageInsight.message_id)
        .where(
            MessageInsight.user_id == user_id,
            Message.received_at >= since,
            Message.folder_id.in_(inbox),
        )
        .group_by(MessageInsight.category)
        .order_by(func.count().desc())
    )
    usage = await assistant.usage(db, user_id, days=1)
    effective = await assistant.settings_for(db, user_id)
    return AiOverview(
        needs_reply=needs_reply or 0,
        important_unread=important_unread or 0,
        by_category=[CategoryCount(category=c, count=n) for c, n in categories.all()],
        today_cost_usd=sum(day.cost_usd for day in usage),
        today_calls=sum(day.calls for day in usage),
        provider=effective.provider,
    )
