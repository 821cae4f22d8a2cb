"""Where the time of a Postwise sync goes, measured by wrapping the pipeline's steps.

A batch goes through fetch over IMAP, parsing in the process pool (with blob writing, in newer
engines), blobs made durable, rows inserted, threading, counts and commit. Each step is timed
where it runs (its asyncio task, or the worker thread a task handed it to), exclusively: a step
called inside another is charged to itself and paused in its caller, and generic database calls
(flush, commit) made inside a named step stay charged to that step. Per step: busy wall time,
and CPU time of the thread it ran on (the event loop's, or the worker thread's; SQLite's own
thread and the parse processes are counted only in the totals).

When the engine pipelines (fetching and parsing the next batch while storing this one), steps of
different batches overlap: their busy times then add up to more than the wall clock.

The wrappers only time: they call the original with the same arguments. They are installed for
one measurement (a context manager) and removed after it, in every `postwise` module that holds
the function (`from x import f` makes copies of the name).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import imapclient.imapclient
from sqlalchemy.ext.asyncio import AsyncSession

from postwise import events
from postwise.mail import ingest, thread_store
from postwise.mail.blobs import BlobStore
from postwise.sync import imap

# (label, description) in the order they are shown.
PHASES: dict[str, str] = {
    "fetch": "IMAP FETCH of a batch (Dovecot, loopback, imaplib reading literals)",
    "imap_parse": "imapclient parsing the FETCH response",
    "imap_other": "other IMAP commands (SELECT, SEARCH, LIST)",
    "mime": "MIME parsing in the process pool (`parse_all`, or `prepare_all`, which also "
    "writes the blobs there and flushes them to disk); the caller waits",
    "blobs": "blobs in Postwise's process (`_write_blobs`: hash, write, make durable; or "
    "`BlobStore.make_durable`)",
    "store": "rows: known-UID lookup, building and inserting (`store_batch` itself)",
    "flush": "ORM INSERTs (`session.flush`)",
    "threads": "threading (`assign_threads_with_changes`)",
    "counts": "folder counts (`refresh_folder_counts`)",
    "commit": "COMMIT (WAL)",
    "events": "realtime events (`announce`)",
}
# Generic calls that are charged to the named step they happen in.
_GENERIC = {"flush", "commit"}
_CONTAINERS = {"store"}  # steps whose generic calls are shown on their own


@dataclass
class _Frame:
    name: str
    thread: int
    wall: float
    cpu: float = 0.0  # its own CPU on its thread, children included (set when it ends)
    child_wall: float = 0.0
    child_cpu: float = 0.0  # CPU of children that ran on the same thread


_FRAME: contextvars.ContextVar[_Frame | None] = contextvars.ContextVar("bench_phase", default=None)


@dataclass
class Timer:
    totals: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    # CPU seconds of the thread each step ran on (event loop or worker thread)
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    missing: list[str] = field(default_factory=list)  # steps the engine no longer has
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[_Frame | None]:
        """Time `name`; the caller sets the frame's `cpu` (None: charged to the step it is
        in)."""
        parent = _FRAME.get()
        if name in _GENERIC and parent is not None and parent.name not in _CONTAINERS:
            yield None
            return
        frame = _Frame(name, threading.get_ident(), time.perf_counter())
        token = _FRAME.set(frame)
        try:
            yield frame
        finally:
            _FRAME.reset(token)
            wall = time.perf_counter() - frame.wall
            with self._lock:
                self.totals[name] += wall - frame.child_wall
                self.cpu[name] += max(0.0, frame.cpu - frame.child_cpu)
                self.calls[name] += 1
                if parent is not None:
                    parent.child_wall += wall
                    if parent.thread == frame.thread:
                        parent.child_cpu += frame.cpu


class _Stepped:
    """Awaits a coroutine, adding the thread CPU of each of its steps to a frame: other tasks
    running on the loop while it waits are not charged to it."""

    __slots__ = ("coro", "frame")

    def __init__(self, coro: Awaitable[Any], frame: _Frame) -> None:
        self.coro = coro
        self.frame = frame

    def __await__(self) -> Any:
        inner = self.coro.__await__()
        value: Any = None
        error: BaseException | None = None
        while True:
            started = time.thread_time()
            try:
                yielded = inner.send(value) if error is None else inner.throw(error)
            except StopIteration as stop:
                self.frame.cpu += time.thread_time() - started
                return stop.value
            except BaseException:
                self.frame.cpu += time.thread_time() - started
                raise
            self.frame.cpu += time.thread_time() - started
            try:
                value, error = (yield yielded), None
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:  # thrown in by the task (cancellation): pass it on
                value, error = None, exc


def _sync_wrapper(timer: Timer, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        with timer.step(name) as frame:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                if frame is not None:
                    frame.cpu = time.thread_time() - started

    return timed


def _async_wrapper(
    timer: Timer, name: str, original: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        with timer.step(name) as frame:
            if frame is None:
                return await original(*args, **kwargs)
            return await _Stepped(original(*args, **kwargs), frame)

    return timed


# (owner, attribute, phase, is_async). Several entries for one phase are alternatives (the
# engine's names before and after a change): a phase is missing only when none of them exists.
_TARGETS: list[tuple[Any, str, str, bool]] = [
    (imap.ImapSession, "fetch", "fetch", False),
    (imapclient.imapclient, "parse_fetch_response", "imap_parse", False),
    (imap.ImapSession, "select", "imap_other", False),
    (imap.ImapSession, "uids_from", "imap_other", False),
    (imap.ImapSession, "uids_since", "imap_other", False),
    (imap.ImapSession, "list_folders", "imap_other", False),
    (ingest, "parse_all", "mime", True),
    (ingest, "prepare_all", "mime", True),
    (ingest, "_write_blobs", "blobs", False),
    (BlobStore, "make_durable", "blobs", False),
    (ingest, "store_batch", "store", True),
    (AsyncSession, "flush", "flush", True),
    (thread_store, "assign_threads_with_changes", "threads", True),
    (ingest, "refresh_folder_counts", "counts", True),
    (AsyncSession, "commit", "commit", True),
    (events, "announce", "events", True),
]


def _holders(owner: Any, attribute: str, original: Any) -> list[Any]:
    """The owner, and every loaded postwise module that imported the same function."""
    if isinstance(owner, type):
        return [owner]
    holders = [owner]
    for name, module in list(sys.modules.items()):
        if (
            module is not owner
            and name.startswith("postwise.")
            and getattr(module, attribute, None) is original
        ):
            holders.append(module)
    return holders


@contextlib.contextmanager
def instrument() -> Iterator[Timer]:
    """Time the sync pipeline's steps until the block ends."""
    timer = Timer()
    saved: list[tuple[Any, str, Any]] = []
    try:
        found: set[str] = set()
        absent: list[tuple[str, str]] = []
        for owner, attribute, name, is_async in _TARGETS:
            original = (
                owner.__dict__.get(attribute)
                if isinstance(owner, type)
                else getattr(owner, attribute, None)
            )
            if original is None:  # renamed in the engine: shown as missing, not a crash
                absent.append((name, f"{getattr(owner, '__name__', owner)}.{attribute}"))
                continue
            found.add(name)
            wrap = _async_wrapper if is_async else _sync_wrapper
            timed = wrap(timer, name, original)
            for holder in _holders(owner, attribute, original):
                saved.append((holder, attribute, original))
                setattr(holder, attribute, timed)
        timer.missing.extend(where for name, where in absent if name not in found)
        yield timer
    finally:
        for holder, attribute, original in reversed(saved):
            setattr(holder, attribute, original)
