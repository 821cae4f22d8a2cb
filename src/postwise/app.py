"""create_app(settings): the API, its middleware and the lifespan that builds every dependency."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any, TypedDict

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from taskiq import InMemoryBroker
from taskiq.api import run_scheduler_task

from postwise.accounts.router import router as accounts_router
from postwise.ai.router import router as ai_router
from postwise.auth.kit import AuthKit, build_auth_kit
from postwise.auth.router import router as auth_router
from postwise.compose.attachments import upload_body_limit
from postwise.compose.router import router as compose_router
from postwise.config import Settings
from postwise.dashboard.router import router as dashboard_router
from postwise.deps import Services
from postwise.imports.router import router as imports_router
from postwise.kit.errors import declare_body_limit, install_error_handlers
from postwise.mail.router import router as mail_router
from postwise.notifications.router import router as notifications_router
from postwise.notify.router import router as notify_router
from postwise.observability.clientaddr import ClientAddressMiddleware
from postwise.observability.health import router as health_router
from postwise.observability.logging import configure_logging
from postwise.observability.metrics import Metrics, mark_process_dead
from postwise.observability.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from postwise.realtime.router import router as realtime_router
from postwise.runtime import open_runtime
from postwise.search.router import router as search_router
from postwise.sync.runner import sync_engine
from postwise.users.router import admin_router
from postwise.users.router import router as users_router
from postwise.web import WebApp, web_csp_sources
from postwise.worker.broker import build_scheduler

log = structlog.get_logger(__name__)

API_DOCS_PREFIXES = ("/api/docs", "/api/redoc")


class LifespanState(TypedDict):
    services: Services
    auth: AuthKit


def content_security_policy(settings: Settings) -> str:
    web = web_csp_sources(settings.web_dir)
    script = " ".join(["'self'", *web.get("script-src", [])])
    # MUI (Emotion) injects <style> elements at run time, which hashes cannot cover.
    # Remote images (`https:`/`http:`) are allowed at the page level only because a mail's
    # `srcdoc` frame inherits this policy on top of its own: the frame's own policy blocks every
    # remote load until the user chooses "Show images", and script stays hash-only everywhere.
    return (
        "default-src 'self'; "
        f"script-src {script}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob: https: http:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


# Swagger UI loads its script and styles from a CDN and boots with an inline script.
DOCS_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def _operation_id(route: APIRoute) -> str:
    # Short, stable operation ids ("health-readyz") make readable generated client names.
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _declare_middleware_problems(app: FastAPI) -> None:
    """The schema also says what middleware answers (413 for a body over the limit)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_body_limit(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    metrics = Metrics(data_dir=settings.data_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[LifespanState]:
        # In dev this creates the secret file now, not lazily in the middle of a request.
        settings.secret()
        if settings.should_migrate_on_start:
            # Imported here: alembic is a twentieth of the app's import, and production API
            # processes (migrated by `postwise migrate`) never need it.
            from postwise.migrations.runner import upgrade_database

            await asyncio.to_thread(upgrade_database, settings)
        async with open_runtime(settings, strict=False, metrics=metrics) as runtime:
            scheduler_task: asyncio.Task[None] | None = None
            if isinstance(runtime.broker, InMemoryBroker):
                # Embedded mode has no worker process: this process runs the schedules too.
                scheduler = build_scheduler(runtime.broker, runtime.store)
                scheduler_task = asyncio.create_task(run_scheduler_task(scheduler))
            services = Services(
                settings=settings,
                engine=runtime.engine,
                sessionmaker=runtime.sessionmaker,
                store=runtime.store,
                jobs=runtime.jobs,
                metrics=metrics,
                ai=runtime.ai,
            )
            auth = build_auth_kit(settings, runtime.store, metrics)
            log.info(
                "started", env=settings.env.value, database=runtime.engine.url.get_backend_name()
            )
            try:
                async with contextlib.AsyncExitStack() as stack:
                    if settings.run_sync_in_process:
                        # Embedded default: no worker process, so the API process syncs mail.
                        await stack.enter_async_context(
                            sync_engine(
                                settings,
                                sessionmaker=runtime.sessionmaker,
                                store=runtime.store,
                                jobs=runtime.jobs,
                                metrics=metrics,
                            )
                        )
                    yield {"services": services, "auth": auth}
            finally:
                auth.hasher.close()
                # serve --workers N: this process's live gauges leave the shared directory.
                mark_process_dead(os.getpid())
                if scheduler_task is not None:
                    scheduler_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await scheduler_task

    app = FastAPI(
        title="Postwise",
        version=version("postwise"),
        summary="Self-hosted AI email assistant",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    app.include_router(health_router)
    # First, as a reader's every click lands here and routes are matched in order (a tenth of
    # a thread page's CPU was matching past the auth, admin and account routes); no other
    # router's paths overlap theirs.
    app.include_router(mail_router)
    app.include_router(search_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(admin_router)
    # Before the accounts router, so /api/accounts/import is never read as an account id.
    app.include_router(imports_router)
    app.include_router(accounts_router)
    app.include_router(compose_router)
    app.include_router(ai_router)
    app.include_router(dashboard_router)
    app.include_router(notify_router)
    app.include_router(notifications_router)
    app.include_router(realtime_router)
    app.router.default = WebApp(settings.web_dir)
    _declare_middleware_problems(app)

    # Added innermost first: the request context wraps the rest, so even a failure in another
    # middleware is logged with its request id and answered as a problem document.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        path_limits={"/api/accounts/import": settings.max_import_bytes},
        route_limits=[upload_body_limit(settings)],
    )
    # zlib's default level, not Starlette's 9: a page of 50 threads (36 KB) costs 0.46 ms of
    # CPU at 9 and 0.17 ms at 6, a quarter of the page's own cost, for 136 bytes (3 %).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Postwise-CSRF"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    # Outermost, so the 500 and 503 answers written by the request context carry them too.
    app.add_middleware(
        SecurityHeadersMiddleware,
        csp=content_security_policy(settings),
        docs_csp=DOCS_CSP,
        docs_prefixes=API_DOCS_PREFIXES,
    )
    # Outermost of all: the client address (trusted-proxy walk) is settled before anything,
    # the access log, auth and the rate limits included, reads it.
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies)
    return app
