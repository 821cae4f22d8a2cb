"""The test harness waits for every job a test started before it deletes the test's rows.

A test that ended with an import still running had its user deleted under the import's feet,
which deadlocked PostgreSQL at teardown; taskiq's receiver, when cancelled, leaves the jobs it
started running. The harness now drains them (tests/fixtures/jobs.py), for every test.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from postwise.imports.router import load_record
from postwise.mail.models import Message
from tests.imports.test_importers import make_raw, mboxrd

pytestmark = pytest.mark.backend

MESSAGES = 600


async def test_a_test_that_ends_mid_import_is_torn_down_after_the_import(
    make_harness: Any,
) -> None:
    at_cleanup: dict[str, Any] = {}
    async with make_harness() as h:
        headers = {**await h.sign_in(), "Content-Type": "application/mbox"}
        data = mboxrd([make_raw(n) for n in range(MESSAGES)])
        accepted = await h.http.post("/api/accounts/import", content=data, headers=headers)
        assert accepted.status_code == 202
        import_id = accepted.json()["import_id"]
        account_id = uuid.UUID(accepted.json()["account_id"])
        delete_rows = h.cleanup

        async def cleanup() -> None:
            # What the harness sees when it is about to delete the test's rows.
            at_cleanup["running"] = len(h.jobs.running)
            at_cleanup["record"] = await load_record(h.services.store, import_id)
            async with h.services.sessionmaker() as db:
                at_cleanup["stored"] = await db.scalar(
                    select(func.count(Message.id)).where(Message.account_id == account_id)
                )
            await delete_rows()

        h.cleanup = cleanup  # type: ignore[method-assign]
        # The test ends here, with the import just queued.
    assert at_cleanup["running"] == 0
    assert at_cleanup["record"]["status"] == "done"
    assert at_cleanup["record"]["imported"] == MESSAGES
    assert at_cleanup["stored"] == MESSAGES
