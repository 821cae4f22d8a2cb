"""The one-trip aiosqlite cursor: what SQLAlchemy relies on holds, in a quarter of the trips."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Integer, String, exc, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from postwise import db
from postwise.config import Settings
from postwise.db_sqlite import OneTripCursor

pytestmark = pytest.mark.asyncio


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String, unique=True)


@pytest_asyncio.fixture
async def engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(Settings(env="dev", data_dir=tmp_path))
    async with engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_engine_uses_the_one_trip_cursor(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)


async def test_select_update_insert_behave_as_sqlalchemy_expects(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        session.add_all([Note(body="a"), Note(body="b")])
        await session.flush()
        ids = sorted(n.id for n in (await session.scalars(select(Note))).all())
        assert ids == [1, 2]  # lastrowid reached the ORM
        bang = update(Note).where(Note.id >= 1).values(body=Note.body + "!")
        result = await session.execute(bang)
        assert db.affected_rows(result) == 2  # rowcount
        new_id = (
            await session.execute(insert(Note).values(body="c").returning(Note.id))
        ).scalar_one()
        assert new_id == 3
        await session.commit()
    async with AsyncSession(engine) as session:
        rows = (await session.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a!"), (2, "b!"), (3, "c")]
        assert list((await session.execute(text("SELECT id FROM notes"))).keys()) == ["id"]


async def test_executemany_and_partial_fetches(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Note), [{"body": f"n{i}"} for i in range(50)])
        result = await connection.execute(select(Note.body).order_by(Note.id))
        assert result.fetchone() == ("n0",)
        assert [r[0] for r in result.fetchmany(3)] == ["n1", "n2", "n3"]
        assert len(result.fetchall()) == 46
        streamed = await connection.stream(select(Note.id).order_by(Note.id))
        assert [r[0] async for r in streamed][:3] == [1, 2, 3]


async def test_errors_surface_as_sqlalchemy_errors(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        session.add(Note(body="dup"))
        await session.commit()
        session.add(Note(body="dup"))
        with pytest.raises(exc.IntegrityError):
            await session.commit()
        await session.rollback()
        with pytest.raises(exc.OperationalError):
            await session.execute(text("SELECT nope FROM notes"))


async def test_one_trip_per_statement(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        aio = raw.driver_connection
        original = aio._execute
        queued: list[str] = []

        async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
            queued.append(getattr(fn, "__name__", repr(fn)))
            return await original(fn, *args, **kwargs)

        aio._execute = counting
        try:
            rows = (await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
            await connection.execute(text("SELECT count(*) FROM notes"))
        finally:
            del aio._execute
    assert [tuple(r) for r in rows] == [(1,), (2,)]
    # SQLAlchemy's stock cursor queues four per statement: cursor, execute, fetchall, close.
    assert queued == ["_execute", "_execute"]
