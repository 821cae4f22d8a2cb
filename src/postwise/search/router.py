"""GET /api/search: Gmail's query language over the user's mail, answered as thread summaries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from postwise.auth.deps import SignedIn
from postwise.auth.throttle import SEARCH, throttled
from postwise.deps import SessionDep
from postwise.kit.errors import problem_responses
from postwise.kit.text import NO_NUL
from postwise.mail import list_items
from postwise.mail.listing import require_account
from postwise.mail.schemas import ThreadPage
from postwise.search import service
from postwise.search.query import MAX_QUERY_LENGTH, QuerySyntaxError, parse_query

router = APIRouter(prefix="/api", tags=["search"], responses=problem_responses(401, 422))


@router.get(
    "/search",
    response_model=ThreadPage,
    responses=problem_responses(404, 429),
    dependencies=[throttled(SEARCH)],
    description="Conversations with a message matching `q`, newest match first, in pages like "
    '`GET /api/threads`. The language (words, "phrases", from:, to:, cc:, bcc:, subject:, '
    "has:attachment, filename:, is:, in:, before:/after:, older_than:/newer_than:, "
    "larger:/smaller:, -negation, OR, parentheses) is described in docs/search.md. A "
    "malformed query answers 422 `invalid_query` with `errors[]`: a `code` and the 0-based "
    "character `position` of each problem. Trash and spam are searched only when `in:` says so. "
    "429 `rate_limited` past 120 searches a minute per user (600 per client address).",
)
async def search(
    user: SignedIn,
    db: SessionDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH * 2, pattern=NO_NUL)],
    account_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    try:
        node = parse_query(q, now=datetime.now(UTC))
    except QuerySyntaxError as error:
        raise error.to_problem() from None
    after = service.decode_cursor(cursor) if cursor else None
    if account_id is not None:
        await require_account(db, user.id, account_id)
    ids, next_position = await service.search_threads(
        db, user.id, node, limit=limit, after=after, account_id=account_id
    )
    # As `GET /api/threads` answers: the items' JSON from the database (mail.list_items).
    items = await list_items.summaries_json(db, user.id, ids)
    next_cursor = service.encode_cursor(next_position) if next_position else None
    return Response(list_items.page_body(items, next_cursor), media_type="application/json")
