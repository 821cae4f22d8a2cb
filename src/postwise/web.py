"""Serve the built web app (Next.js static export) with deep links that survive a reload.

It is the router's fallback rather than a catch-all route, so API routes keep their own 404 and
405 answers and the web app never shadows one.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from postwise.kit.errors import problem_response

WEB_ROUTE = "web"
_IMMUTABLE_PREFIX = "_next/static/"
_API_PREFIXES = ("/api/", "/api")


def web_csp_sources(web_dir: Path) -> dict[str, list[str]]:
    """Hashes of the inline scripts in the exported pages, written at build time.

    Next.js bootstraps with inline scripts; allowing exactly their hashes keeps `script-src`
    free of 'unsafe-inline'.
    """
    try:
        data = json.loads((web_dir / "csp.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {
        key: [str(value) for value in values]
        for key, values in data.items()
        if isinstance(values, list)
    }


class WebApp:
    def __init__(self, web_dir: Path) -> None:
        self.root = web_dir.resolve()

    def _resolve(self, path: str) -> Path | None:
        relative = path.strip("/")
        if relative:
            candidates = [relative, f"{relative}/index.html", f"{relative}.html"]
        else:
            candidates = ["index.html"]
        for candidate in candidates:
            target = (self.root / candidate).resolve()
            # resolve() follows "..", so anything outside the export is refused here.
            if target.is_relative_to(self.root) and target.is_file():
                return target
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        response: Response
        if scope["method"] not in {"GET", "HEAD"} or path == "/api" or path.startswith("/api/"):
            response = problem_response(404, "not_found", detail=f"No route for {path}.")
        else:
            scope["postwise_route"] = WEB_ROUTE
            response = self._serve(path)
        await response(scope, receive, send)

    def _serve(self, path: str) -> Response:
        if not self.root.is_dir():
            return problem_response(
                404,
                "web_not_built",
                detail="The web app is not built: run `make run`, or `npm run build` in web/.",
            )
        if (target := self._resolve(path)) is not None:
            return FileResponse(target, headers=_cache_headers(target, self.root))
        if (not_found := self.root / "404.html").is_file():
            return FileResponse(not_found, status_code=404, headers={"Cache-Control": "no-cache"})
        return problem_response(404, "not_found", detail=f"No route for {path}.")


def _cache_headers(target: Path, root: Path) -> dict[str, str]:
    if target.relative_to(root).as_posix().startswith(_IMMUTABLE_PREFIX):
        # Next.js puts a content hash in every file name under _next/static.
        return {"Cache-Control": "public, max-age=31536000, immutable"}
    return {"Cache-Control": "no-cache"}
