"""The worker's own scrape endpoint: `postwise worker` has no HTTP server, so prometheus-client's
small threaded one serves GET /metrics on POSTWISE_WORKER_METRICS_PORT (one target per worker)."""

from __future__ import annotations

import contextlib

import structlog
from prometheus_client import start_http_server

from postwise.observability.metrics import Metrics

log = structlog.get_logger(__name__)


def serve_metrics(
    metrics: Metrics, host: str, port: int, stack: contextlib.ExitStack | contextlib.AsyncExitStack
) -> int | None:
    """Serve `metrics` on host:port until `stack` closes; returns the bound port (None: off).

    A port already taken is logged, not fatal: a worker without its metrics still does its job,
    and the error says what to change.
    """
    if port == 0:
        return None
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.exposition_registry())
    except OSError as error:
        log.error("worker_metrics_unavailable", host=host, port=port, error=str(error))
        return None

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    stack.callback(stop)
    bound = int(server.server_address[1])
    log.info("worker_metrics_serving", host=host, port=bound)
    return bound
