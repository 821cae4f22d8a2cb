"""RFC 9457 problem details: every error leaves the API as `application/problem+json` with a code.

Clients branch on the stable `code`; `title` and `detail` are for people and may change.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Codes for errors raised by the framework itself (routing, method, body parsing).
_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class Problem(BaseModel):
    """The shape of every error body, for the OpenAPI schema and the generated client."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries saying these statuses answer with a problem document (and replacing
    FastAPI's default 422 shape, which is not what the API sends)."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }


class ProblemError(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        commit: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(detail or code)
        # commit=True: the answer is an error, but what the request recorded (a failed-login
        # counter, a security event, a revoked session) must stand.
        self.commit = commit
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.headers = headers
        self.extra = extra


class BodyTooLargeError(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException because FastAPI re-raises those
    from body parsing untouched, where any other exception would become a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {limit} bytes.")


def problem_body(
    status: int,
    code: str,
    *,
    detail: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    *,
    detail: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, detail=detail, title=title, instance=instance, **extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "address", 0, "city") -> "address[0].city": what a form or client author expects.
    parts = list(
        loc[1:] if loc and loc[0] in {"body", "query", "path", "header", "cookie"} else loc
    )
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        error = next(error for error in raw if error.get("type") == "json_invalid")
        ctx = error.get("ctx") or {}
        return problem_response(
            422,
            "malformed_json",
            detail=f"The request body is not valid JSON: {ctx.get('error', 'parse error')}.",
            position=error.get("loc", ("body", 0))[-1],
        )
    errors = [
        {
            "field": _field_name(tuple(error.get("loc", ()))),
            "in": error["loc"][0] if error.get("loc") else "body",
            "message": error.get("msg", "invalid"),
            "type": error.get("type", "value_error"),
        }
        for error in raw
    ]
    return problem_response(
        422,
        "validation_error",
        detail="The request has invalid fields.",
        errors=errors,
    )


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _STATUS_CODES.get(status, f"http_{status}")
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(status).phrase:
        detail = None
    return problem_response(status, code, detail=detail, headers=dict(exc.headers or {}))


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.code,
        detail=exc.detail,
        title=exc.title,
        headers=exc.headers,
        **exc.extra,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(ProblemError, _problem_handler)
