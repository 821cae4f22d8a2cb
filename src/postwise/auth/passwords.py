"""argon2id hashing off the event loop, and zxcvbn strength checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from postwise.config import Settings

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 3
_HASH_THREAD_NICE = 19
# zxcvbn's cost grows with length; it only needs to see the start of a very long password.
_ZXCVBN_MAX = 72  # the zxcvbn package refuses longer input


@dataclass(frozen=True)
class Verification:
    ok: bool
    needs_rehash: bool


class PasswordHasher:
    """argon2id in a bounded thread pool: hashing never blocks the event loop, and at most one
    hash per core runs at once (each holds `memory_kib` of memory)."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = Argon2Hasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2,
            thread_name_prefix="argon2",
            initializer=_lower_thread_priority,
        )
        # Verified against when the user does not exist, so unknown and known addresses cost
        # the same time and cannot be told apart. Made on first need: jobs build this too.
        self._dummy_hash: str | None = None

    @property
    def parameters(self) -> tuple[int, int, int]:
        return (self._hasher.time_cost, self._hasher.memory_cost, self._hasher.parallelism)

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    def _verify(self, password_hash: str, password: str) -> Verification:
        try:
            self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return Verification(ok=False, needs_rehash=False)
        return Verification(ok=True, needs_rehash=self._hasher.check_needs_rehash(password_hash))

    async def verify(self, password_hash: str | None, password: str) -> Verification:
        loop = asyncio.get_running_loop()
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("postwise-dummy-password")
            await loop.run_in_executor(self._pool, self._verify, self._dummy_hash, password)
            return Verification(ok=False, needs_rehash=False)
        return await loop.run_in_executor(self._pool, self._verify, password_hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _lower_thread_priority() -> None:
    """Hashing threads yield the CPU to the event loop.

    A login flood keeps every core hashing; at equal priority the event loop then waits behind
    the hashes and every other request slows with it (bench/auth measured /me p95 going 8x).
    On Linux, setpriority on a thread id re-nices that thread alone.
    """
    # Not Linux, or not permitted: hashing still works, only less politely.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _HASH_THREAD_NICE)


@dataclass(frozen=True)
class Strength:
    score: int
    warning: str
    suggestions: list[str]
    crack_time_display: str

    @property
    def acceptable(self) -> bool:
        return self.score >= MIN_SCORE


# What zxcvbn itself says when it finds nothing to judge.
_EMPTY_SUGGESTIONS = (
    "Use a few words, avoid common phrases.",
    "No need for symbols, digits, or uppercase letters.",
)
_INSTANT = "less than a second"


def password_strength(password: str, user_inputs: Sequence[str] = ()) -> Strength:
    """zxcvbn with its offline dictionaries; common passwords score 0 or 1 there."""
    if not password:
        # zxcvbn fails on "" (IndexError), which a live meter sends once the field is cleared.
        return Strength(
            score=0, warning="", suggestions=list(_EMPTY_SUGGESTIONS), crack_time_display=_INSTANT
        )
    inputs = [part for value in user_inputs for part in _input_parts(value)]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    feedback = result.get("feedback") or {}
    return Strength(
        score=int(result["score"]),
        warning=str(feedback.get("warning") or ""),
        suggestions=[str(item) for item in feedback.get("suggestions") or []],
        crack_time_display=str(
            result["crack_times_display"]["offline_slow_hashing_1e4_per_second"]
        ),
    )


def _input_parts(value: str) -> list[str]:
    # "ada.lovelace@example.org" should also penalise "ada", "lovelace" and "example".
    cleaned = value.lower().replace("@", " ").replace(".", " ").replace("_", " ")
    return [value.lower(), *[part for part in cleaned.split() if len(part) >= 3]]
