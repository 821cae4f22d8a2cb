"""The auth domain's problem answers, named once so every route says the same thing."""

from __future__ import annotations

from postwise.auth.passwords import Strength
from postwise.kit.errors import ProblemError

BEARER = {"WWW-Authenticate": "Bearer"}


def invalid_credentials() -> ProblemError:
    # The same answer for an unknown address, a wrong password, a locked or disabled account.
    return ProblemError(
        401, "invalid_credentials", "The email or password is incorrect.", commit=True
    )


def invalid_token(detail: str = "The link or token is invalid or has expired.") -> ProblemError:
    return ProblemError(400, "invalid_token", detail)


def not_authenticated(detail: str = "Sign in to continue.") -> ProblemError:
    return ProblemError(401, "not_authenticated", detail, headers=BEARER)


def weak_password(strength: Strength, field: str = "password") -> ProblemError:
    message = strength.warning or "This password is too easy to guess."
    return ProblemError(
        422,
        "weak_password",
        "Choose a stronger password.",
        errors=[{"field": field, "in": "body", "message": message, "type": "weak_password"}],
        feedback={"warning": strength.warning, "suggestions": strength.suggestions},
        score=strength.score,
    )
