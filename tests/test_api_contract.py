"""The OpenAPI schema says what the server does: every operation of it is walked and probed.

Statuses the framework, the middleware or a shared dependency can give (401 without a
session, 404 for an id that names nothing, 405 for another method, 413 for a body over the
limit, 422 for malformed JSON) must be declared, as problem documents, wherever they can
happen; the limits the server enforces stand in the schema; and nothing a client can send
(an id beyond a BIGINT, a NUL, a cursor it forged, an empty password) ends in a 5xx.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from postwise.users.models import User
from tests.accounts.conftest import Harness, accounts_settings, make_harness

__all__ = ["accounts_settings", "make_harness"]

pytestmark = pytest.mark.backend

PROBLEM = "application/problem+json"
MAX_BIGINT = 2**63 - 1
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The smallest body each operation with a required field accepts, so a probe gets past body
# validation to what it is about; the others take `{}`.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/messages/{message_id}"): {"show_images": True},
    ("POST", "/api/threads/actions"): {"thread_ids": [str(uuid.uuid4())], "action": "read"},
}


@pytest.fixture
async def h(make_harness: Any) -> AsyncIterator[Harness]:
    async with make_harness() as harness:
        yield harness


async def admin_headers(h: Harness) -> dict[str, str]:
    headers = await h.sign_in()
    async with h.services.sessionmaker() as db:
        await db.execute(update(User).where(User.id == h.user_ids[-1]).values(is_admin=True))
        await db.commit()
    return headers


async def schema_of(h: Harness) -> dict[str, Any]:
    response = await h.http.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def declared(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


def fill(path: str, operation: dict[str, Any], value: Any = None) -> str:
    """The path with every parameter set: `value`, or one that names no row."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        if value is not None:
            chosen = value
        elif parameter["schema"].get("type") == "integer":
            chosen = 987654321
        else:
            chosen = uuid.uuid4()
        path = path.replace("{" + parameter["name"] + "}", str(chosen))
    return path


def assert_declared_problem(
    response: httpx.Response, operation: dict[str, Any], status: int, code: str | None = None
) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert status in declared(operation), f"{where} answers {status}, undeclared"
    assert response.headers["content-type"] == PROBLEM, where
    if code is not None:
        assert response.json()["code"] == code, f"{where}: {response.text}"


# --- what the schema says ----------------------------------------------------------------------


async def test_every_declared_error_is_a_problem_document(h: Harness) -> None:
    wrong = [
        f"{method} {path} {status}"
        for method, path, operation in operations(await schema_of(h))
        for status, answer in operation["responses"].items()
        if int(status) >= 400
        and answer.get("content", {}).get(PROBLEM, {}).get("schema")
        != {"$ref": "#/components/schemas/Problem"}
    ]
    assert not wrong


async def test_ids_and_page_sizes_are_bounded_in_the_schema(h: Harness) -> None:
    unbounded = []
    for method, path, operation in operations(await schema_of(h)):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            is_int = schema.get("type") == "integer"
            bounded = "minimum" in schema and 0 < schema.get("maximum", 0) <= MAX_BIGINT
            paged = parameter["name"] in {"limit", "offset"}
            if ((parameter["in"] == "path" and is_int) or paged) and not bounded:
                unbounded.append(f"{method} {path} {parameter['name']}")
    assert not unbounded


async def test_a_route_that_reads_a_body_has_it_in_the_schema(h: Harness) -> None:
    upload = (await schema_of(h))["paths"]["/api/accounts/import"]["post"]
    assert set(upload["requestBody"]["content"]) == {"application/mbox", "application/octet-stream"}


# --- what the server does, operation by operation ----------------------------------------------


async def test_without_a_session_every_answer_is_declared(h: Harness) -> None:
    for method, path, operation in operations(await schema_of(h)):
        response = await h.http.request(
            method, fill(path, operation), json={} if "requestBody" in operation else None
        )
        where = f"{method} {path}: {response.status_code} {response.text[:200]}"
        assert response.status_code < 500, where
        assert response.status_code in declared(operation), where


async def test_malformed_json_is_422_wherever_a_body_is_read(h: Harness) -> None:
    headers = await admin_headers(h)
    for method, path, operation in operations(await schema_of(h)):
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            continue
        # Cut short, not UTF-8 (FastAPI's own answer to that was an undeclared 400).
        for raw in (b'{"a": ', b"\x80\x81", b'{"name": "\xc3"}'):
            response = await h.http.request(
                method,
                fill(path, operation),
                content=raw,
                headers={**headers, "Content-Type": "application/json"},
            )
            assert_declared_problem(response, operation, 422, "malformed_json")


async def test_a_body_over_the_limit_is_413_as_declared(make_harness: Any) -> None:
    # Room for the sign-in's own body, not for the probe's.
    limits = {"max_body_bytes": 512, "max_import_bytes": 512, "max_attachment_bytes": 512}
    async with make_harness(**limits) as h:
        headers = await admin_headers(h)
        for method, path, operation in operations(await schema_of(h)):
            if "requestBody" not in operation:
                continue
            content_type = next(iter(operation["requestBody"]["content"]))
            body, code = json.dumps({"x": "y" * 1000}).encode(), "payload_too_large"
            if path.endswith("/attachments"):
                # An upload has its own limit: the attachment limit plus room for the
                # multipart framing (64 KiB), and its own code.
                body, code = b"y" * (512 + 65 * 1024), "attachment_too_large"
            response = await h.http.request(
                method,
                fill(path, operation),
                headers={**headers, "Content-Type": content_type},
                content=body,
            )
            assert_declared_problem(response, operation, 413, code)


def unnamable_ids(operation: dict[str, Any]) -> list[Any]:
    ints = any(
        p["in"] == "path" and p["schema"].get("type") == "integer"
        for p in operation.get("parameters", [])
    )
    # Beyond a BIGINT (a 500 from the driver before), malformed, and well-formed but unknown.
    return [2**63, 2**64, -1, "abc", None] if ints else ["abc", "%00", None]


async def test_every_id_that_names_nothing_is_404(h: Harness) -> None:
    headers = await admin_headers(h)
    for method, path, operation in operations(await schema_of(h)):
        if "{" not in path:
            continue
        for value in unnamable_ids(operation):
            response = await h.http.request(
                method,
                fill(path, operation, value),
                headers=headers,
                json=BODIES.get((method, path), {}) if "requestBody" in operation else None,
            )
            assert_declared_problem(response, operation, 404, "not_found")


@pytest.mark.parametrize("path", ["/api/folders", "/api/threads", "/api/search"])
async def test_an_account_filter_naming_no_mailbox_is_404_as_declared(
    h: Harness, path: str
) -> None:
    headers = await h.sign_in()
    operation = (await schema_of(h))["paths"][path]["get"]
    params = {"account_id": str(uuid.uuid4()), "q": "hello"}
    response = await h.http.get(path, params=params, headers=headers)
    assert_declared_problem(response, operation, 404, "not_found")


def routed_methods(schema: dict[str, Any], url: str) -> set[str]:
    """Every method of every schema path whose template matches `url`."""
    found = set()
    for path, item in schema["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), url):
            found |= {method.upper() for method in item}
    return found


async def test_405_names_every_method_of_the_path(h: Harness) -> None:
    schema = await schema_of(h)
    for path, item in schema["paths"].items():
        url = fill(path, next(iter(item.values())))
        allowed = routed_methods(schema, url)
        for method in sorted(set(METHODS) - allowed):
            response = await h.http.request(method, url)
            assert response.status_code == 405, f"{method} {url}: {response.status_code}"
            assert response.json()["code"] == "method_not_allowed"
            assert set(response.headers["allow"].split(", ")) == allowed, f"{method} {url}"


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("GET", "/api/auth/login", "POST"),  # POST only
        ("PUT", "/api/messages/1", "PATCH"),  # PATCH only
        ("DELETE", "/api/users/me", "GET, PATCH"),  # said `Allow: GET`
        ("PUT", "/api/accounts", "GET, POST"),  # said `Allow: GET`
    ],
)
async def test_405_allow_header(h: Harness, method: str, url: str, allow: str) -> None:
    response = await h.http.request(method, url)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


# --- values that used to end in a 5xx ----------------------------------------------------------


@pytest.mark.parametrize("password", ["", " ", "a"])
async def test_password_strength_of_an_empty_password(h: Harness, password: str) -> None:
    # No sign-in needed: the meter on the registration page calls it on every keystroke.
    response = await h.http.post("/api/auth/password/strength", json={"password": password})
    assert response.status_code == 200, response.text
    assert response.json()["score"] == 0 and response.json()["acceptable"] is False


@pytest.mark.parametrize(
    ("path", "limits"),
    [
        ("/api/auth/events", (1, 200)),
        ("/api/admin/events", (1, 200)),
        ("/api/admin/users", (1, 200)),
    ],
)
async def test_page_sizes_are_enforced_as_the_schema_says(
    h: Harness, path: str, limits: tuple[int, int]
) -> None:
    headers = await admin_headers(h)
    parameter = next(
        p for p in (await schema_of(h))["paths"][path]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == limits
    low, high = limits
    for limit, status in [(low - 1, 422), (low, 200), (high, 200), (high + 1, 422)]:
        response = await h.http.get(path, params={"limit": limit}, headers=headers)
        assert response.status_code == status, f"{path}?limit={limit}: {response.text}"


async def test_an_offset_beyond_a_bigint_is_refused(h: Harness) -> None:
    headers = await admin_headers(h)
    response = await h.http.get("/api/admin/users", params={"offset": 2**63}, headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


# Text that reaches a query or a row: PostgreSQL refused the NUL inside the driver (a 500).
NUL_REQUESTS = [
    ("GET", "/api/search", {"params": {"q": "hel\x00lo"}}),
    ("GET", "/api/admin/users", {"params": {"q": "\x00"}}),
    ("GET", "/api/admin/events", {"params": {"type": "\x00"}}),
    ("PATCH", "/api/users/me", {"json": {"name": "Ada\x00"}}),
    ("POST", "/api/accounts/import", {"params": {"account_email": "a\x00@example.com"}}),
    ("POST", "/api/accounts/import", {"params": {"folder": "In\x00box"}}),
]


@pytest.mark.parametrize(("method", "path", "parts"), NUL_REQUESTS)
async def test_a_nul_in_text_is_refused(
    h: Harness, method: str, path: str, parts: dict[str, Any]
) -> None:
    headers = await admin_headers(h)
    response = await h.http.request(method, path, headers=headers, **parts)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_a_nul_in_a_new_users_name_is_refused(h: Harness) -> None:
    body = {"email": "nul@example.com", "password": "Quiet-Harbour-lantern-2291", "name": "A\0"}
    response = await h.http.post("/api/auth/register", json=body)
    assert response.status_code == 422, response.text


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def event_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


NOW = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
FORGED_CURSORS = [
    ("/api/search", {"q": "hello", "cursor": cursor(NOW, 2**63)}),
    ("/api/search", {"q": "hello", "cursor": cursor(NOW, 1e400)}),  # JSON's Infinity
    ("/api/search", {"q": "hello", "cursor": cursor(NOW, 0)}),
    ("/api/search", {"q": "hello", "cursor": cursor("0001-01-01T00:00:00+14:00", 1)}),
    ("/api/search", {"q": "hello", "cursor": cursor("9999-12-31T23:59:59-14:00", 1)}),
    ("/api/auth/events", {"cursor": event_cursor(f"2020-01-01T00:00:00|{uuid.uuid4()}")}),
    ("/api/auth/events", {"cursor": event_cursor(f"0001-01-01T00:00:00+14:00|{uuid.uuid4()}")}),
    ("/api/admin/events", {"cursor": event_cursor(f"9999-12-31T23:59:59-14:00|{uuid.uuid4()}")}),
]


@pytest.mark.parametrize(("path", "params"), FORGED_CURSORS)
async def test_a_forged_cursor_is_invalid_not_a_crash(
    h: Harness, path: str, params: dict[str, str]
) -> None:
    headers = await admin_headers(h)
    response = await h.http.get(path, params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_cursor"
