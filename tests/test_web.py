"""The built web app is served at / with deep links, sane caching and no escape from its folder."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from postwise.app import create_app

pytestmark = [pytest.mark.asyncio, pytest.mark.backend]


def _export(root: Path) -> None:
    (root / "signin").mkdir(parents=True)
    (root / "_next" / "static" / "chunks").mkdir(parents=True)
    (root / "index.html").write_text("<html>inbox shell</html>")
    (root / "signin" / "index.html").write_text("<html>sign in</html>")
    (root / "404.html").write_text("<html>not here</html>")
    (root / "_next" / "static" / "chunks" / "app-1a2b.js").write_text("console.log(1)")
    (root / "csp.json").write_text(json.dumps({"script-src": ["'sha256-abc='"]}))
    (root.parent / "secret.txt").write_text("do not serve")


@pytest.fixture
async def web(make_settings, tmp_path: Path):
    root = tmp_path / "export" / "out"
    _export(root)
    app = create_app(make_settings(web_dir=root))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def test_index_and_deep_links(web: httpx.AsyncClient) -> None:
    index = await web.get("/")
    assert index.status_code == 200 and "inbox shell" in index.text
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    for path in ("/signin/", "/signin", "/signin/index.html"):
        page = await web.get(path)
        assert page.status_code == 200 and "sign in" in page.text, path


async def test_hashed_assets_are_immutable(web: httpx.AsyncClient) -> None:
    asset = await web.get("/_next/static/chunks/app-1a2b.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert "javascript" in asset.headers["content-type"]


async def test_unknown_page_gets_the_404_page(web: httpx.AsyncClient) -> None:
    missing = await web.get("/no/such/page")
    assert missing.status_code == 404
    assert "not here" in missing.text


async def test_no_path_escapes_the_export(web: httpx.AsyncClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/signin/../../secret.txt"):
        response = await web.get(path)
        assert "do not serve" not in response.text, path


async def test_api_paths_are_never_the_web_app(web: httpx.AsyncClient) -> None:
    response = await web.get("/api/unknown")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await web.post("/")).status_code == 404


async def test_csp_allows_exactly_the_exported_inline_scripts(web: httpx.AsyncClient) -> None:
    csp = (await web.get("/")).headers["content-security-policy"]
    assert "script-src 'self' 'sha256-abc='" in csp


async def test_csp_lets_a_mail_frame_show_remote_images_but_never_run_script(
    web: httpx.AsyncClient,
) -> None:
    """A mail's `srcdoc` frame inherits the page's policy on top of its own: "Show images" can
    only work if the page allows remote images, while script stays the exported hashes only."""
    directives = {
        name: values
        for name, _, values in (
            part.strip().partition(" ")
            for part in (await web.get("/")).headers["content-security-policy"].split(";")
        )
    }
    assert set(directives["img-src"].split()) >= {"https:", "http:", "data:", "blob:"}
    assert directives["script-src"].split() == ["'self'", "'sha256-abc='"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


async def test_missing_build_says_how_to_build(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 404
    assert response.json()["code"] == "web_not_built"
