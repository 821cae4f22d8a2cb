"""RFC 9457 problem details: every error leaves the API as `application/problem+json` with a code.

Clients branch on the stable `code`; `title` and `detail` are for people and may change.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_CONTENT_TYPE = "application/problem+json"
_log = structlog.get_logger(__name__)

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


def declare_body_limit(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add 413 `payload_too_large` to every operation that takes a body: the body limit is
    middleware, so no route declares it itself. Same shape as `problem_responses` gives."""
    ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    entry = {
        "description": HTTPStatus(413).phrase,
        # application/json as FastAPI lists it beside every problem: typed clients read it.
        "content": {PROBLEM_CONTENT_TYPE: ref, "application/json": ref},
    }
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", copy.deepcopy(entry))
    return openapi


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


class UnavailableError(Exception):
    """A backing service (the Store's Redis, ...) cannot answer right now.

    Answered as 503 with the subclass's stable `code` and a `Retry-After`, never as a 500: the
    request was fine and will work again once the service is back. Raised before the commit,
    it rolls the transaction back like any error."""

    code = "service_unavailable"
    detail = "A service this request needs is not reachable right now; try again shortly."
    retry_after = 5


class BodyTooLargeError(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException because FastAPI re-raises those
    from body parsing untouched, where any other exception would become a 400."""

    def __init__(
        self, limit: int, *, code: str = "payload_too_large", detail: str | None = None
    ) -> None:
        super().__init__(413, detail or f"The request body exceeds the limit of {limit} bytes.")
        # A route with a limit of its own answers with its own code (attachment_too_large).
        self.code = code


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


# The methods an `Allow` header may name, in the order RFC 9110 lists them.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path.

    The router's own 405 names only the methods of the first route whose path matched, and
    FastAPI makes one route per method: `DELETE /api/users/me` said `Allow: GET` although
    PATCH works too. Asking the router again with each method finds them all.
    """
    allowed = []
    for method in _METHODS:
        # A fresh scope: the failed request's scope carries what routing stored in it.
        probe = {
            "type": "http",
            "path": request.scope["path"],
            "root_path": request.scope.get("root_path", ""),
            "method": method,
            "headers": request.scope.get("headers", []),
        }
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _body_decode_error(exc: StarletteHTTPException) -> BaseException | None:
    """FastAPI's 400 for a JSON body that `json.loads` refused with something other than a
    JSONDecodeError: bytes that are not UTF-8 (RFC 8259 JSON is), or nesting too deep."""
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, (UnicodeDecodeError, RecursionError)):
        return cause
    return None


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if (cause := _body_decode_error(exc)) is not None:
        # The same answer as for any other body that is not JSON (docs/api.md).
        reason = "it is not UTF-8" if isinstance(cause, UnicodeDecodeError) else "nested too deep"
        return problem_response(
            422,
            "malformed_json",
            detail=f"The request body is not valid JSON: {reason}.",
            position=cause.start if isinstance(cause, UnicodeDecodeError) else 0,
        )
    status = exc.status_code
    code = (
        exc.code
        if isinstance(exc, BodyTooLargeError)
        else _STATUS_CODES.get(status, f"http_{status}")
    )
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(status).phrase:
        detail = None
    headers = dict(exc.headers or {})
    if status == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
    return problem_response(status, code, detail=detail, headers=headers)


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


async def _unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnavailableError)
    # One line per refused request: the access log says which routes, this says why.
    _log.warning("service_unavailable", code=exc.code, error=str(exc), path=request.url.path)
    return problem_response(
        503, exc.code, detail=exc.detail, headers={"Retry-After": str(exc.retry_after)}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(ProblemError, _problem_handler)
    app.add_exception_handler(UnavailableError, _unavailable_handler)
