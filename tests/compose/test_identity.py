"""A mailbox's identity: name, send-as addresses and signature, and what drafts do with them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.accounts import conftest as accounts_conftest
from tests.accounts.conftest import Harness
from tests.compose.writing import mailbox

pytestmark = pytest.mark.backend

# The accounts suite's harness, under names of this module (tests/compose has no conftest).
accounts_settings = accounts_conftest.accounts_settings
make_harness = accounts_conftest.make_harness


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with make_harness() as harness:
        yield harness


async def test_identity_round_trip(h: Harness) -> None:
    box = await mailbox(h)
    url = f"/api/accounts/{box.account_id}/identity"
    initial = (await h.http.get(url, headers=box.headers)).json()
    assert initial == {
        "account_id": str(box.account_id),
        "email": box.email,
        "sender_name": "",
        "send_as": [],
        "signature_text": "",
        "signature_html": "",
    }
    body = {
        "sender_name": "Me Myself",
        "send_as": [
            {"name": "Sales", "address": "Sales@Example.com"},
            {"name": "Sales again", "address": "sales@example.com"},
            {"address": "help@example.com"},
        ],
        "signature_text": "Me\nExample Ltd",
        "signature_html": '<p onmouseover="x()">Me<script>steal()</script><img src="cid:logo"></p>',
    }
    saved = await h.http.put(url, json=body, headers=box.headers)
    assert saved.status_code == 200, saved.text
    identity = saved.json()
    assert identity["send_as"] == [
        {"name": "Sales", "address": "sales@example.com"},
        {"name": "", "address": "help@example.com"},
    ]
    assert identity["signature_html"] == '<p>Me<img src="cid:logo"></p>'
    assert (await h.http.get(url, headers=box.headers)).json() == identity
    # The sender's name is not the mailbox's label in Postwise.
    account = (await h.http.get(f"/api/accounts/{box.account_id}", headers=box.headers)).json()
    assert account["display_name"] != "Me Myself"

    # The aliases are senders now; other addresses are not.
    alias = await h.http.post(
        "/api/drafts", json={"from_address": "HELP@example.com"}, headers=box.headers
    )
    assert alias.status_code == 201 and alias.json()["from_address"] == "help@example.com"
    # A new draft starts with the signature.
    assert alias.json()["text"] == "\n\n-- \nMe\nExample Ltd\n"
    assert alias.json()["html"] == '<p><br></p><div>-- <br><p>Me<img src="cid:logo"></p></div>'
    stranger = await h.http.post(
        "/api/drafts", json={"from_address": "ceo@example.com"}, headers=box.headers
    )
    assert stranger.status_code == 422 and stranger.json()["code"] == "invalid_from_address"


async def test_what_an_identity_refuses(h: Harness) -> None:
    box = await mailbox(h)
    other = await mailbox(h)
    url = f"/api/accounts/{box.account_id}/identity"
    own = await h.http.put(
        url,
        json={"send_as": [{"address": "x@example.com"}, {"address": box.email.upper()}]},
        headers=box.headers,
    )
    assert own.status_code == 422 and own.json()["code"] == "send_as_is_own_address"
    assert [e["field"] for e in own.json()["errors"]] == ["send_as[1].address"]
    injected = await h.http.put(
        url, json={"sender_name": "Me\r\nBcc: x@example.org"}, headers=box.headers
    )
    assert injected.status_code == 422
    assert [e["field"] for e in injected.json()["errors"]] == ["sender_name"]
    for answer in (
        await h.http.get(url, headers=other.headers),
        await h.http.put(url, json={"sender_name": "Thief"}, headers=other.headers),
    ):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert (await h.http.get(url, headers=box.headers)).json()["sender_name"] == ""
