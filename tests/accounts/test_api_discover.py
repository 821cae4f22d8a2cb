"""POST /api/accounts/discover: what the add-mailbox form shows before anything signs in."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import Harness
from tests.accounts.servers import DnsServer, HttpServer
from tests.accounts.test_discovery import CONFIG

pytestmark = pytest.mark.backend


async def test_a_known_provider_comes_from_the_table_with_its_hint(h: Harness) -> None:
    headers = await h.sign_in()
    response = await h.http.post(
        "/api/accounts/discover", json={"email": "Ada@GMail.com"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imap": {"host": "imap.gmail.com", "port": 993, "security": "ssl"},
        "smtp": {"host": "smtp.gmail.com", "port": 465, "security": "ssl"},
        "username": None,
        "source": "provider",
        "provider": "Gmail",
        "sign_in_hint": response.json()["sign_in_hint"],
    }
    assert "app password" in response.json()["sign_in_hint"]


async def test_autoconfig_servers_and_user_name(make_harness) -> None:
    with DnsServer({}) as dns_server, HttpServer({"/example.test": (200, CONFIG)}) as http:
        async with make_harness(
            dns_nameservers=[dns_server.address], autoconfig_urls=[http.url("/{domain}")]
        ) as h:
            headers = await h.sign_in()
            response = await h.http.post(
                "/api/accounts/discover", json={"email": "ada@example.test"}, headers=headers
            )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["source"], body["provider"], body["username"]) == ("autoconfig", None, "ada")
    assert body["imap"] == {"host": "imap.example.test", "port": 143, "security": "starttls"}
    assert body["smtp"] == {"host": "smtp.example.test", "port": 465, "security": "ssl"}


async def test_unknown_servers_say_so(h: Harness) -> None:
    headers = await h.sign_in()
    # A local-only domain is never looked up: no source can know it.
    response = await h.http.post(
        "/api/accounts/discover", json={"email": "ada@mail.internal"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "discovery_failed"


async def test_an_address_that_is_none_is_refused(h: Harness) -> None:
    headers = await h.sign_in()
    response = await h.http.post(
        "/api/accounts/discover", json={"email": "not an address"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert (
        await h.http.post("/api/accounts/discover", json={"email": "a@gmail.com"})
    ).status_code == 401


async def test_look_ups_are_rate_limited_per_user(h: Harness) -> None:
    headers = await h.sign_in()
    answers = [
        (
            await h.http.post(
                "/api/accounts/discover", json={"email": "ada@gmail.com"}, headers=headers
            )
        ).status_code
        for _ in range(31)
    ]
    assert answers[:30] == [200] * 30
    assert answers[30] == 429
    other = await h.sign_in()
    fresh = await h.http.post(
        "/api/accounts/discover", json={"email": "ada@gmail.com"}, headers=other
    )
    assert fresh.status_code == 200
