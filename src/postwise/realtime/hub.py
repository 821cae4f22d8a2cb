"""Per-process fan-out: one Store subscription per connected user, shared by all their sockets.

With Redis every subscription pins a connection, so a user with five tabs open costs one, not
five. The Store has no pattern subscriptions, so a user's first socket in a process opens their
channel and their last socket closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from postwise.store import Store

log = structlog.get_logger(__name__)

# Called with each event's JSON text, or None once the feed has ended and nothing more will come.
Deliver = Callable[[str | None], None]


class FeedUnavailableError(Exception):
    """The Store subscription could not be opened or broke."""


class _Topic:
    def __init__(self) -> None:
        self.listeners: set[Deliver] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Waiters may all be gone (cancelled) when the feed fails: never leave the error unread.
        self.ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.task: asyncio.Task[None] | None = None


class LiveMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.open = Gauge(
            "websocket_connections_open",
            "Live-event sockets (WS /api/ws) open (summed over the live API processes).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.closed = Counter(
            "websocket_connections_closed_total",
            "Live-event sockets closed, by who closed them and the close reason.",
            ["reason"],
            registry=registry,
        )


class LiveHub:
    """Built in the router's lifespan, one per app; only ever used from its event loop."""

    def __init__(self) -> None:
        self._topics: dict[str, _Topic] = {}
        self._metrics: LiveMetrics | None = None

    def metrics(self, registry: CollectorRegistry) -> LiveMetrics:
        # The app's registry lives in its Services, which the router's lifespan cannot see:
        # the series are registered on first use instead (absent until a socket connects).
        if self._metrics is None:
            self._metrics = LiveMetrics(registry)
        return self._metrics

    @asynccontextmanager
    async def listen(self, store: Store, channel: str, deliver: Deliver) -> AsyncIterator[None]:
        """Deliver `channel`'s messages while the block runs; subscribed before it starts.

        Raises FeedUnavailableError when the subscription cannot be opened.
        """
        topic = self._topics.get(channel)
        if topic is None:
            topic = _Topic()
            self._topics[channel] = topic
            topic.task = asyncio.create_task(self._pump(store, channel, topic))
        topic.listeners.add(deliver)
        try:
            # Shielded: one socket giving up must not cancel the subscription others wait for.
            await asyncio.shield(topic.ready)
            yield
        finally:
            topic.listeners.discard(deliver)
            if not topic.listeners and self._topics.get(channel) is topic:
                del self._topics[channel]
                await _stop(topic)

    async def _pump(self, store: Store, channel: str, topic: _Topic) -> None:
        try:
            async with store.subscribe(channel) as messages:
                topic.ready.set_result(None)
                async for message in messages:
                    for deliver in list(topic.listeners):
                        deliver(message.data)
        except Exception as error:
            log.warning("live_feed_failed", channel=channel, error=str(error))
            if not topic.ready.done():
                topic.ready.set_exception(FeedUnavailableError(str(error)))
        finally:
            # However it ended (Store closed, Redis gone), nothing more arrives on this topic:
            # a later socket must open a fresh subscription, and current ones must hear of it.
            if self._topics.get(channel) is topic:
                del self._topics[channel]
            if not topic.ready.done():
                topic.ready.set_exception(FeedUnavailableError("subscription ended"))
            for deliver in list(topic.listeners):
                deliver(None)

    async def close(self) -> None:
        topics = list(self._topics.values())
        self._topics.clear()
        for topic in topics:
            await _stop(topic)


async def _stop(topic: _Topic) -> None:
    if topic.task is None:
        return
    topic.task.cancel()
    # asyncio.wait, not `await task`: the task's CancelledError is not ours to swallow or
    # raise, while a cancellation of the caller itself still propagates.
    await asyncio.wait({topic.task})
