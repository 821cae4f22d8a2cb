"""Routes mounted only in tests, to drive the middleware and the transaction machinery."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from postwise.deps import SessionDep
from postwise.instance.models import InstanceSetting
from postwise.instance.service import set_setting
from postwise.worker.queue import enqueue_job

router = APIRouter(prefix="/api/test", tags=["test"])


class Person(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(ge=0)
    tags: list[str] = Field(default_factory=list)


@router.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@router.post("/people")
async def people(person: Person) -> Person:
    return person


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internal detail /etc/passwd")


@router.get("/db")
async def database(session: SessionDep) -> dict[str, int]:
    value = (await session.execute(text("SELECT 1"))).scalar_one()
    return {"value": value}


@router.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


@router.get("/big")
async def big() -> dict[str, str]:
    return {"text": "postwise " * 2000}


@router.post("/settings/{key}")
async def write_setting(key: str, session: SessionDep, fail: bool = False) -> dict[str, str]:
    await set_setting(session, key, {"written": True})
    enqueue_job(session, "system.heartbeat", origin=key)
    if fail:
        raise RuntimeError("fail after enqueue")
    return {"key": key}


@router.post("/settings/{key}/insert")
async def insert_setting(key: str, session: SessionDep) -> dict[str, str]:
    """Adds without flushing: a duplicate key only fails at commit, after the handler."""
    session.add(InstanceSetting(key=key, value=1))
    return {"key": key}
