"""/api/notifications: each user's own list, unread count, pages, mark read, delete; and the
desktop-notification setting on /api/users/me."""

from __future__ import annotations

import uuid

import pytest

from tests.accounts.conftest import Harness
from tests.notifications.conftest import add, rows_of

pytestmark = pytest.mark.backend


async def signed_in(h: Harness) -> tuple[dict[str, str], uuid.UUID]:
    headers = await h.sign_in()
    return headers, h.user_ids[-1]


async def test_a_new_user_has_nothing(h: Harness) -> None:
    headers, _ = await signed_in(h)
    response = await h.http.get("/api/notifications", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "unread_count": 0, "next_cursor": None}


async def test_the_list_is_newest_first_and_pages_with_the_cursor(h: Harness) -> None:
    headers, user_id = await signed_in(h)
    for n in range(5):
        await add(h, user_id, title=f"Import {n}", body=f"{n} messages", link="/?account=x")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await h.http.get("/api/notifications", params=params, headers=headers)).json()
        assert page["unread_count"] == 5
        assert len(page["items"]) <= 2
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Import {n}" for n in reversed(range(5))]
    first = (await h.http.get("/api/notifications", headers=headers)).json()["items"][0]
    assert first["kind"] == "import_finished"
    assert first["body"] == "4 messages" and first["link"] == "/?account=x"
    assert first["read_at"] is None and first["data"] == {}


async def test_mark_read_by_id_and_all_counts_and_filters(h: Harness) -> None:
    headers, user_id = await signed_in(h)
    rows = [await add(h, user_id, title=f"N{n}") for n in range(3)]
    response = await h.http.post(
        "/api/notifications/read", json={"ids": [str(rows[0].id)]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"updated": 1, "unread_count": 2}
    # Marking it again changes nothing.
    again = await h.http.post(
        "/api/notifications/read", json={"ids": [str(rows[0].id)]}, headers=headers
    )
    assert again.json() == {"updated": 0, "unread_count": 2}
    unread = await h.http.get("/api/notifications?unread_only=true", headers=headers)
    assert [item["title"] for item in unread.json()["items"]] == ["N2", "N1"]
    everything = await h.http.post("/api/notifications/read", json={"all": True}, headers=headers)
    assert everything.json() == {"updated": 2, "unread_count": 0}
    listed = (await h.http.get("/api/notifications", headers=headers)).json()
    assert listed["unread_count"] == 0
    assert all(item["read_at"] is not None for item in listed["items"])


async def test_a_mark_read_request_must_name_something(h: Harness) -> None:
    headers, _ = await signed_in(h)
    for body in ({}, {"ids": []}, {"all": False}):
        response = await h.http.post("/api/notifications/read", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"


async def test_another_users_notifications_stay_out_of_reach(h: Harness) -> None:
    mine, me = await signed_in(h)
    theirs, them = await signed_in(h)
    other = await add(h, them, title="Theirs")
    await add(h, me, title="Mine")
    listed = (await h.http.get("/api/notifications", headers=mine)).json()
    assert [item["title"] for item in listed["items"]] == ["Mine"]
    marked = await h.http.post(
        "/api/notifications/read", json={"ids": [str(other.id)]}, headers=mine
    )
    assert marked.json() == {"updated": 0, "unread_count": 1}
    deleted = await h.http.delete(f"/api/notifications/{other.id}", headers=mine)
    assert deleted.status_code == 404 and deleted.json()["code"] == "not_found"
    marked_all = await h.http.post("/api/notifications/read", json={"all": True}, headers=mine)
    assert marked_all.json()["updated"] == 1
    [row] = await rows_of(h, them)
    assert row.read_at is None
    assert (await h.http.get("/api/notifications", headers=theirs)).json()["unread_count"] == 1


async def test_delete_removes_ones_own(h: Harness) -> None:
    headers, user_id = await signed_in(h)
    row = await add(h, user_id)
    response = await h.http.delete(f"/api/notifications/{row.id}", headers=headers)
    assert response.status_code == 204
    assert await rows_of(h, user_id) == []
    gone = await h.http.delete(f"/api/notifications/{row.id}", headers=headers)
    assert gone.status_code == 404


async def test_a_forged_cursor_is_invalid(h: Harness) -> None:
    headers, _ = await signed_in(h)
    for cursor in ("nonsense", "MjAyMC0wMS0wMVQwMDowMDowMHx4"):
        response = await h.http.get(
            "/api/notifications", params={"cursor": cursor}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_cursor"


async def test_without_a_session_it_is_401(h: Harness) -> None:
    assert (await h.http.get("/api/notifications")).status_code == 401


async def test_the_new_mail_setting_round_trips(h: Harness) -> None:
    headers, _ = await signed_in(h)
    me = (await h.http.get("/api/users/me", headers=headers)).json()
    assert me["new_mail_notifications"] == "none"
    changed = await h.http.patch(
        "/api/users/me", json={"new_mail_notifications": "all"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["new_mail_notifications"] == "all"
    # Changing the name leaves the setting alone.
    await h.http.patch("/api/users/me", json={"name": "Ada"}, headers=headers)
    me = (await h.http.get("/api/users/me", headers=headers)).json()
    assert me["new_mail_notifications"] == "all" and me["name"] == "Ada"
    refused = await h.http.patch(
        "/api/users/me", json={"new_mail_notifications": "sometimes"}, headers=headers
    )
    assert refused.status_code == 422 and refused.json()["code"] == "validation_error"
