"""A draft's attachments over the real app: upload, download and delete, the size limit (also
for uploads at once and against the request body limit), and no change once it is queued."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postwise.compose.models import DraftAttachment
from tests.accounts import conftest as accounts_conftest
from tests.accounts.conftest import Harness
from tests.compose.writing import create, mailbox

pytestmark = pytest.mark.backend

# The accounts suite's harness, under names of this module (tests/compose has no conftest).
accounts_settings = accounts_conftest.accounts_settings
make_harness = accounts_conftest.make_harness


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with make_harness() as harness:
        yield harness


async def test_attachments_upload_download_and_delete(make_harness) -> None:  # type: ignore[no-untyped-def]
    async with make_harness(max_attachment_bytes=1000) as h:
        box = await mailbox(h)
        draft = await create(h, box)
        url = f"/api/drafts/{draft['id']}/attachments"
        first = await h.http.post(
            url,
            files={"file": ("report.pdf", b"%PDF-1.7 x" * 10, "application/pdf")},
            headers=box.headers,
        )
        assert first.status_code == 201, first.text
        assert first.json() == {
            "position": 0,
            "filename": "report.pdf",
            "content_type": "application/pdf",
            "size": 100,
            "is_inline": False,
            "content_id": None,
        }
        # Folders, control and bidi characters go from the name; the type is guessed from it
        # when the browser said nothing useful.
        second = await h.http.post(
            url,
            files={
                "file": (
                    "..\\..\\evil\u202etxt.html",
                    b"<script>1</script>",
                    "application/octet-stream",
                )
            },
            data={"inline": "true"},
            headers=box.headers,
        )
        assert second.status_code == 201, second.text
        assert second.json()["filename"] == "eviltxt.html"
        assert second.json()["content_type"] == "text/html"
        assert second.json()["position"] == 1 and second.json()["is_inline"] is True
        assert second.json()["content_id"].endswith("@postwise")

        download = await h.http.get(f"{url}/0", headers=box.headers)
        assert download.status_code == 200 and download.content == b"%PDF-1.7 x" * 10
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["content-type"] == "application/pdf"
        active = await h.http.get(f"{url}/1", headers=box.headers)
        assert active.headers["content-security-policy"].startswith("sandbox")

        # 100 + 18 stored: 882 bytes are left of the 1000.
        over = await h.http.post(url, files={"file": ("big.bin", b"x" * 883)}, headers=box.headers)
        assert over.status_code == 413 and over.json()["code"] == "attachment_too_large"
        assert "0.000954 MB" in over.json()["detail"]
        fits = await h.http.post(url, files={"file": ("fits.bin", b"x" * 882)}, headers=box.headers)
        assert fits.status_code == 201 and fits.json()["position"] == 2

        assert (await h.http.delete(f"{url}/0", headers=box.headers)).status_code == 204
        assert (await h.http.get(f"{url}/0", headers=box.headers)).status_code == 404
        again = await h.http.post(url, files={"file": ("a.txt", b"abc")}, headers=box.headers)
        # Positions are never renumbered: the others keep theirs.
        assert again.json()["position"] == 3 and again.json()["content_type"] == "text/plain"
        kept = (await h.http.get(f"/api/drafts/{draft['id']}", headers=box.headers)).json()
        assert [a["position"] for a in kept["attachments"]] == [1, 2, 3]
        assert kept["version"] == 1  # uploads never make the editor's autosave conflict
        listed = (await h.http.get("/api/drafts", headers=box.headers)).json()["items"]
        assert listed[0]["has_attachments"] is True


async def test_uploads_at_once_share_the_limit(make_harness) -> None:  # type: ignore[no-untyped-def]
    async with make_harness(max_attachment_bytes=1000) as h:
        box = await mailbox(h)
        draft = await create(h, box)
        url = f"/api/drafts/{draft['id']}/attachments"
        answers = await asyncio.gather(
            *(
                h.http.post(
                    url, files={"file": (f"{n}.bin", bytes([n]) * 300)}, headers=box.headers
                )
                for n in range(4)
            )
        )
        assert sorted(a.status_code for a in answers) == [201, 201, 201, 413]
        kept = (await h.http.get(f"/api/drafts/{draft['id']}", headers=box.headers)).json()
        assert sorted(a["position"] for a in kept["attachments"]) == [0, 1, 2]


async def test_autosaves_that_cross_keep_one(h: Harness) -> None:
    box = await mailbox(h)
    draft = await create(h, box)
    url = f"/api/drafts/{draft['id']}"
    answers = await asyncio.gather(
        *(
            h.http.patch(url, json={"version": 1, "text": f"take {n}"}, headers=box.headers)
            for n in range(3)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    (winner,) = [a.json() for a in answers if a.status_code == 200]
    stored = (await h.http.get(url, headers=box.headers)).json()
    assert stored["version"] == 2 and stored["text"] == winner["text"]


async def test_the_upload_limit_is_the_attachment_limit_not_the_body_limit(make_harness) -> None:  # type: ignore[no-untyped-def]
    # A JSON body may be 2,000 bytes; an attachment up to 100,000.
    async with make_harness(max_body_bytes=2000, max_attachment_bytes=100_000) as h:
        box = await mailbox(h)
        draft = await create(h, box)
        url = f"/api/drafts/{draft['id']}/attachments"
        full = await h.http.post(
            url, files={"file": ("a.bin", b"a" * 100_000)}, headers=box.headers
        )
        assert full.status_code == 201, full.text
        # Far past the limit: the middleware refuses it before the upload is read, with the
        # same code as the route's own check.
        huge = await h.http.post(
            url, files={"file": ("b.bin", b"b" * 200_000)}, headers=box.headers
        )
        assert huge.status_code == 413 and huge.json()["code"] == "attachment_too_large"
        # Streamed without a Content-Length: refused once the count passes the limit.
        boundary = "b0undary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()

        async def chunks() -> AsyncIterator[bytes]:
            yield head
            for _ in range(20):
                yield b"c" * 10_000
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = await h.http.post(
            url,
            content=chunks(),
            headers={**box.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413 and streamed.json()["code"] == "attachment_too_large"
        big_json = await h.http.patch(
            f"/api/drafts/{draft['id']}", json={"text": "x" * 3000}, headers=box.headers
        )
        assert big_json.status_code == 413 and big_json.json()["code"] == "payload_too_large"
        async with h.services.sessionmaker() as db:
            sizes = (
                await db.scalars(
                    select(DraftAttachment.size).where(
                        DraftAttachment.draft_id == uuid.UUID(draft["id"])
                    )
                )
            ).all()
        assert list(sizes) == [100_000]


async def test_attachments_of_a_queued_draft_cannot_change(h: Harness) -> None:
    box = await mailbox(h)
    draft = await create(h, box, to=[{"address": "bob@example.net"}])
    # Scheduled a day ahead: nothing tries to deliver it while the test runs.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    sent = await h.http.post(
        f"/api/drafts/{draft['id']}/send", json={"send_at": tomorrow}, headers=box.headers
    )
    assert sent.status_code == 202, sent.text
    upload = await h.http.post(
        f"/api/drafts/{draft['id']}/attachments",
        files={"file": ("a.txt", b"x")},
        headers=box.headers,
    )
    assert upload.status_code == 409 and upload.json()["code"] == "draft_not_editable"
