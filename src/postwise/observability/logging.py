"""structlog for our own lines and for every stdlib logger (uvicorn, sqlalchemy, taskiq) alike."""

from __future__ import annotations

import logging
import logging.handlers
import sys

import structlog
from structlog.typing import Processor

from postwise.config import Settings

# Our access log replaces uvicorn's, which knows neither the request id nor the route.
_SILENCED = ("uvicorn.access",)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _formatter(renderer: Processor) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if _is_json(renderer) else _identity,
            renderer,
        ],
    )


def _identity(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    return event


def _is_json(renderer: Processor) -> bool:
    return isinstance(renderer, structlog.processors.JSONRenderer)


def configure_logging(settings: Settings) -> None:
    """Idempotent: the API, the worker and the tests may each call it."""
    structlog.configure(
        processors=[
            # First: a line below the level is dropped before any processor formats it
            # (stdlib would drop it only at the end, after the timestamp and the rest).
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Processor
    if settings.effective_log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        # Plain tracebacks: the rich ones print local variables, which may hold passwords.
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )

    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(_formatter(renderer))
    handlers: list[logging.Handler] = [console]
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        # A file is read by machines (log shippers, grep | jq): always JSON.
        rotating = logging.handlers.RotatingFileHandler(
            settings.log_file,
            maxBytes=settings.log_file_max_bytes,
            backupCount=settings.log_file_backups,
            encoding="utf-8",
        )
        rotating.setFormatter(_formatter(structlog.processors.JSONRenderer()))
        handlers.append(rotating)

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "taskiq", "alembic"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in _SILENCED:
        logging.getLogger(name).disabled = True
    # taskiq logs every scheduled send and every run at INFO: noise unless debugging.
    logging.getLogger("taskiq").setLevel(
        logging.INFO if settings.log_level == "DEBUG" else logging.WARNING
    )
    # Alembic announces every plugin it loads at INFO on each start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # SQL statement logs are noise at INFO; opt in with POSTWISE_LOG_LEVEL=DEBUG.
    logging.getLogger("sqlalchemy.engine").setLevel(
        logging.INFO if settings.log_level == "DEBUG" else logging.WARNING
    )
