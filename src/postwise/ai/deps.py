"""The assistant as a request dependency (built in the lifespan, `ai.services`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from postwise.ai.services import AiServices
from postwise.deps import ServicesDep


async def get_ai(services: ServicesDep) -> AiServices:
    assert isinstance(services.ai, AiServices)
    return services.ai


AiDep = Annotated[AiServices, Depends(get_ai)]
