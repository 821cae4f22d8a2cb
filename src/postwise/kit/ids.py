"""Ids in URL paths: one that cannot name a row answers 404 `not_found`, like an unknown one.

A client asking for `/api/messages/abc` or `/api/messages/9223372036854775808` asks for
something that does not exist, and the API says so the way it does for any other missing id
(docs/api.md), rather than 422 or, worse, 500: an integer beyond the column's range never
reaches the database, where it would overflow the driver (OverflowError on SQLite, DBAPIError
on PostgreSQL). The OpenAPI schema still declares the real type and range, so a generated
client knows what an id looks like.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from postwise.kit.errors import ProblemError

# BIGINT (PostgreSQL) and INTEGER (SQLite) primary keys: signed 64 bits.
MAX_BIGINT = 2**63 - 1
# INTEGER columns on PostgreSQL are signed 32 bits.
MAX_INT = 2**31 - 1


def not_found_if_invalid(what: str) -> WrapValidator:
    """Put after `Path(...)` in an id's `Annotated`: a value the type or its bounds refuse
    answers 404 "No such <what>." instead of a validation error."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            # Not a ValueError, so pydantic lets it through to the problem handler.
            raise ProblemError(404, "not_found", f"No such {what}.") from None

    return WrapValidator(validate)
