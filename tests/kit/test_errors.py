"""Every error is RFC 9457 problem+json with a stable code."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.routes import router

pytestmark = [pytest.mark.asyncio, pytest.mark.backend]


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["type"] == "about:blank"
    return body  # type: ignore[no-any-return]


async def test_validation_error_lists_every_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/test/people", json={"name": "", "age": -1, "tags": [1]})
    body = assert_problem(response, 422, "validation_error")
    fields = {error["field"]: error for error in body["errors"]}  # type: ignore[attr-defined]
    assert set(fields) == {"name", "age", "tags[0]"}
    assert all(error["in"] == "body" and error["message"] for error in fields.values())


async def test_missing_body_and_bad_path_parameter(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/api/test/people"), 422, "validation_error")
    assert body["errors"][0]["in"] == "body"  # type: ignore[index]
    body = assert_problem(await client.get("/api/test/items/abc"), 422, "validation_error")
    assert body["errors"] == [  # type: ignore[comparison-overlap]
        {
            "field": "item_id",
            "in": "path",
            "message": body["errors"][0]["message"],  # type: ignore[index]
            "type": "int_parsing",
        }
    ]


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/test/people", content=b'{"name": "x",', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "malformed_json")
    assert "not valid JSON" in str(body["detail"])


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/does-not-exist"), 404, "not_found")
    assert_problem(await client.post("/api/does-not-exist"), 404, "not_found")
    assert_problem(await client.delete("/healthz"), 405, "method_not_allowed")


async def test_unhandled_error_is_500_with_request_id_and_no_trace(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/test/boom", headers={"X-Request-ID": "trace-me-42"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "trace-me-42"
    assert response.headers["x-request-id"] == "trace-me-42"
    text = response.text
    assert "secret internal detail" not in text
    assert "Traceback" not in text and "RuntimeError" not in text
    # Security headers are on error answers too.
    assert response.headers["x-content-type-options"] == "nosniff"
