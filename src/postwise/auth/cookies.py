"""The refresh-token and device cookies, and how a request says it is not a browser."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from postwise.auth.kit import AuthKit
from postwise.db import utcnow
from postwise.kit.errors import ProblemError

REFRESH_COOKIE = "postwise_refresh"
DEVICE_COOKIE = "postwise_device"
COOKIE_PATH = "/api/auth"
CLIENT_HEADER = "x-postwise-client"
CSRF_HEADER = "x-postwise-csrf"
_DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers honour


def is_api_client(request: Request) -> bool:
    return request.headers.get(CLIENT_HEADER, "").lower() == "api"


def require_csrf_header(request: Request) -> None:
    # A cross-site form or image cannot set a custom header, and CORS keeps other sites'
    # scripts from doing so: its presence proves the call comes from our own pages.
    if request.headers.get(CSRF_HEADER) != "1":
        raise ProblemError(403, "csrf_required", "Send the header X-Postwise-CSRF: 1.")


def set_refresh_cookie(response: Response, kit: AuthKit, token: str, expires: datetime) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=max(0, int((expires - utcnow()).total_seconds())),
        path=COOKIE_PATH,
        httponly=True,
        secure=kit.settings.secure_cookies,
        samesite="strict",
    )


def set_device_cookie(response: Response, kit: AuthKit, device_id: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        device_id,
        max_age=_DEVICE_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        secure=kit.settings.secure_cookies,
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, kit: AuthKit) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        secure=kit.settings.secure_cookies,
        samesite="strict",
    )


def clear_refresh_cookie_header(kit: AuthKit) -> dict[str, str]:
    """For error answers raised as exceptions, which carry headers but no Response."""
    scratch = Response()
    clear_refresh_cookie(scratch, kit)
    return {"Set-Cookie": scratch.headers["set-cookie"]}
