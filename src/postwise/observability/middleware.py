"""Pure ASGI middleware: request context (id, access log, metrics, last-resort errors),
security headers and the request body limit.

Pure ASGI rather than BaseHTTPMiddleware: it adds no task per request, streams bodies untouched
and keeps contextvars (the request id) visible to the endpoint.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import structlog
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postwise.db import is_database_unavailable
from postwise.kit.errors import BodyTooLargeError, problem_response
from postwise.observability.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
# A client-chosen id is echoed into logs and headers: accept only what is safe to print.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Routes whose traffic would drown the access log and the latency histograms.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED_ROUTE = "unmatched"

access_log = structlog.get_logger("postwise.access")
error_log = structlog.get_logger("postwise.error")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    # The web app answers from the router's fallback and marks the scope itself.
    return str(scope.get("postwise_route", UNMATCHED_ROUTE))


class RequestContextMiddleware:
    """Outermost layer: everything inside it logs with the request id and is measured."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        begin = time.perf_counter()
        self.metrics.http_in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if started:
                # Headers are gone; all we can do is record it and drop the connection.
                error_log.exception("response_failed_midway")
                raise
            response = self._error_response(error, request_id)
            status = response.status_code
            await response(scope, receive, send_with_id)
        except BaseException:
            # Cancelled: the client went away (a reload mid-request). Not a server error, so
            # not a 500 in the error-rate alert: nginx's "client closed request".
            if not started:
                status = 499
            raise
        finally:
            self.metrics.http_in_flight.dec()
            elapsed = time.perf_counter() - begin
            self._record(scope, status, elapsed)
            structlog.contextvars.clear_contextvars()

    def _error_response(self, error: Exception, request_id: str) -> JSONResponse:
        if is_database_unavailable(error):
            error_log.error("database_unavailable", error=str(error))
            return problem_response(
                503,
                "database_unavailable",
                detail="The database is not reachable right now; try again shortly.",
                headers={"Retry-After": "5"},
                request_id=request_id,
            )
        error_log.exception("unhandled_error", error_type=type(error).__name__)
        return problem_response(
            500,
            "internal_error",
            detail="Something went wrong on our side. Quote the request id when reporting it.",
            request_id=request_id,
        )

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = _route_template(scope)
        method = scope["method"]
        self.metrics.http_requests.labels(method=method, route=route, status=str(status)).inc()
        if route in _QUIET_ROUTES:
            return
        self.metrics.http_duration.labels(method=method, route=route).observe(elapsed)
        access_log.info(
            "request",
            method=method,
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
            client=(scope.get("client") or ("-",))[0],
        )


class SecurityHeadersMiddleware:
    """Headers every response carries; the CSP is chosen per path (the API docs need a CDN)."""

    def __init__(self, app: ASGIApp, *, csp: str, docs_csp: str, docs_prefixes: Iterable[str]):
        self.app = app
        self.csp = csp
        self.docs_csp = docs_csp
        self.docs_prefixes = tuple(docs_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope["path"].startswith(self.docs_prefixes) else self.csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True, slots=True)
class RouteBodyLimit:
    """A limit of its own for the paths `pattern` matches (a path with an id in it), refused
    with its own code and sentence: an attachment upload is refused as `attachment_too_large`
    whether the route or the middleware sees the size first."""

    pattern: re.Pattern[str]
    max_bytes: int
    code: str = "payload_too_large"
    detail: str | None = None


class BodyLimitMiddleware:
    """Refuse bodies over the limit: at once from Content-Length, or as soon as a streamed
    (chunked) body passes it, before it is buffered in memory."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        path_limits: dict[str, int] | None = None,
        route_limits: Sequence[RouteBodyLimit] = (),
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        # Exact paths with their own limit (a mail archive upload is far larger than JSON).
        self.path_limits = path_limits or {}
        self.route_limits = tuple(route_limits)

    def _limit(self, path: str) -> RouteBodyLimit | None:
        if path in self.path_limits:
            return RouteBodyLimit(re.compile(re.escape(path)), self.path_limits[path])
        return next((limit for limit in self.route_limits if limit.pattern.fullmatch(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        if limit is None:
            await _LimitedRequest(self.app, self.default_max_bytes)(scope, receive, send)
            return
        await _LimitedRequest(self.app, limit.max_bytes, code=limit.code, detail=limit.detail)(
            scope, receive, send
        )


class _LimitedRequest:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        *,
        code: str = "payload_too_large",
        detail: str | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.code = code
        self.detail = detail or f"The request body exceeds the limit of {max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = problem_response(413, self.code, detail=self.detail)
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes, code=self.code, detail=self.detail)
            return message

        await self.app(scope, counting_receive, send)
