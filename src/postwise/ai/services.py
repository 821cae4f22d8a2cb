"""The assistant's long-lived parts, built once per process in the lifespan (API or worker)
and handed to requests and jobs: the engine (provider choice, cache, budget, breaker) and the
local triage pool."""

from __future__ import annotations

from dataclasses import dataclass

from postwise.ai.engine import Assistant
from postwise.ai.pool import TriagePool
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.observability.metrics import Metrics


@dataclass(frozen=True)
class AiServices:
    assistant: Assistant
    pool: TriagePool

    async def aclose(self) -> None:
        self.pool.close()
        await self.assistant.aclose()


def build_ai(settings: Settings, *, metrics: Metrics | None = None) -> AiServices:
    keyring = Keyring(settings.secret(), settings.previous_secrets())
    return AiServices(
        assistant=Assistant(settings, keyring=keyring, metrics=metrics),
        pool=TriagePool(settings.ai_triage_processes),
    )
