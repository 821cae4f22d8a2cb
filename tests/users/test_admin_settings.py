"""GET/PUT /api/admin/settings: the registration mode an admin picks, used from the next sign-up."""

from __future__ import annotations

import pytest

from tests.auth.conftest import Harness, bearer

pytestmark = pytest.mark.backend


async def admin_and_member(h: Harness) -> tuple[dict[str, str], dict[str, str]]:
    await h.signup("boss@example.org", name="Boss")
    await h.signup("member@example.org", name="Mia Member")
    boss = bearer((await h.login("boss@example.org"))["access_token"])
    member = bearer((await h.login("member@example.org"))["access_token"])
    return boss, member


async def set_mode(h: Harness, headers: dict[str, str], mode: str | None) -> dict[str, object]:
    response = await h.http.put("/api/admin/settings", json={"registration": mode}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_the_mode_takes_effect_on_the_next_sign_up(h: Harness) -> None:
    boss, _ = await admin_and_member(h)
    current = await h.http.get("/api/admin/settings", headers=boss)
    assert current.json() == {
        "registration": "open",
        "registration_source": "environment",
        "registration_default": "open",
    }

    assert await set_mode(h, boss, "closed") == {
        "registration": "closed",
        "registration_source": "admin",
        "registration_default": "open",
    }
    closed = await h.register("newcomer@example.org")
    assert closed.status_code == 403
    assert closed.json()["code"] == "registration_closed"

    await set_mode(h, boss, "invite")
    uninvited = await h.register("newcomer@example.org")
    assert uninvited.json()["code"] == "invite_required"
    invite = await h.http.post(
        "/api/admin/invites", json={"email": "newcomer@example.org"}, headers=boss
    )
    assert invite.status_code == 201
    await h.mail_to("newcomer@example.org")  # the invitation itself
    await h.signup("newcomer@example.org", invite_token=invite.json()["token"])

    # Cleared, the environment's setting decides again.
    cleared = await set_mode(h, boss, None)
    assert (cleared["registration"], cleared["registration_source"]) == ("open", "environment")
    await h.signup("later@example.org")
    stored = (await h.http.get("/api/admin/settings", headers=boss)).json()
    assert stored["registration_source"] == "environment"


async def test_the_admin_can_open_an_instance_the_environment_closed(make_harness) -> None:
    async with make_harness(registration="closed") as h:
        # The first user of an empty instance always gets in: it becomes the admin.
        await h.signup("boss@example.org")
        boss = bearer((await h.login("boss@example.org"))["access_token"])
        refused = await h.register("guest@example.org")
        assert refused.json()["code"] == "registration_closed"
        body = await set_mode(h, boss, "open")
        assert (body["registration"], body["registration_default"]) == ("open", "closed")
        await h.signup("guest@example.org")


async def test_only_admins_see_or_change_the_settings(h: Harness) -> None:
    boss, member = await admin_and_member(h)
    for response in (
        await h.http.get("/api/admin/settings", headers=member),
        await h.http.put("/api/admin/settings", json={"registration": "closed"}, headers=member),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "admin_required"
    assert (await h.http.get("/api/admin/settings")).status_code == 401
    # The member's attempt changed nothing.
    assert (await h.http.get("/api/admin/settings", headers=boss)).json()["registration"] == "open"


@pytest.mark.parametrize("body", [{"registration": "maybe"}, {}, {"registration": "open", "x": 1}])
async def test_unknown_modes_and_fields_are_refused(h: Harness, body: dict[str, object]) -> None:
    boss, _ = await admin_and_member(h)
    response = await h.http.put("/api/admin/settings", json=body, headers=boss)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_admin_list_shows_last_activity_and_refuses_self_deactivation(h: Harness) -> None:
    boss, _ = await admin_and_member(h)
    await h.signup("never@example.org")
    page = (await h.http.get("/api/admin/users", headers=boss)).json()
    seen = {item["email"]: item["last_seen_at"] for item in page["items"]}
    assert seen["boss@example.org"] is not None and seen["member@example.org"] is not None
    assert seen["never@example.org"] is None  # verified, never signed in
    me = (await h.http.get("/api/users/me", headers=boss)).json()
    for change in ({"is_active": False}, {"is_admin": False}):
        refused = await h.http.patch(f"/api/admin/users/{me['id']}", json=change, headers=boss)
        assert refused.status_code == 409
        assert refused.json()["code"] == "cannot_modify_self"
    member_id = next(i["id"] for i in page["items"] if i["email"] == "member@example.org")
    promoted = await h.http.patch(
        f"/api/admin/users/{member_id}", json={"is_admin": True}, headers=boss
    )
    assert promoted.json()["is_admin"] is True
    assert promoted.json()["last_seen_at"] is not None
