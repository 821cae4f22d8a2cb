"""Request and response bodies of /api/auth."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from postwise.auth.passwords import MAX_LENGTH, MIN_LENGTH
from postwise.kit.emails import normalise_email
from postwise.kit.text import NO_NUL

# `format` tells clients (and the API fuzzer) what the validator below will accept.
Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(normalise_email),
]
# Length only: no composition rules and no truncation (argon2 takes any length).
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
# What a user types to prove who they are is checked, not judged: any non-empty string.
GivenPassword = Annotated[str, Field(min_length=1, max_length=1024)]
Token = Annotated[str, Field(min_length=1, max_length=512)]


class _Body(BaseModel):
    # Unknown fields such as is_admin or is_verified are ignored, never applied.
    model_config = ConfigDict(extra="ignore")


class RegisterRequest(_Body):
    email: Email
    password: Password
    name: str = Field(default="", max_length=200, pattern=NO_NUL)
    invite_token: str | None = Field(default=None, max_length=512)


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


class TokenRequest(_Body):
    token: Token


class EmailRequest(_Body):
    email: Email


class LoginRequest(_Body):
    email: Email
    password: GivenPassword


class MfaLoginRequest(_Body):
    mfa_token: Token
    code: str = Field(min_length=1, max_length=32)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str | None = Field(
        default=None, description="Only for API clients (X-Postwise-Client: api)."
    )


class MfaRequired(BaseModel):
    mfa_required: Literal[True] = True
    mfa_token: str


class RegisterResponse(BaseModel):
    """202 `accepted`: a link is on its way (the same answer whether or not the address is
    taken). 201 `signed_in`: the instance's first user, trusted at once because no SMTP server
    is configured to verify it with, signed in as by POST /login."""

    status: Literal["accepted", "signed_in"]
    detail: str
    admin: bool = Field(
        default=False,
        description="The account is the instance's first, and so its administrator.",
    )
    session: TokenResponse | None = Field(
        default=None,
        description="With `signed_in`: the tokens POST /login would give (browsers get the "
        "refresh token as a cookie, API clients in `refresh_token`).",
    )


class RefreshRequest(_Body):
    refresh_token: str | None = Field(default=None, max_length=512)


class StatusResponse(BaseModel):
    status: str


class ResetRequest(_Body):
    token: Token
    new_password: Password


class ChangePasswordRequest(_Body):
    current_password: GivenPassword
    new_password: Password


class StrengthRequest(_Body):
    password: str = Field(max_length=MAX_LENGTH)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)


class StrengthResponse(BaseModel):
    score: int
    acceptable: bool
    warning: str
    suggestions: list[str]
    crack_time_display: str


class SessionOut(BaseModel):
    id: uuid.UUID
    current: bool
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None


class SessionList(BaseModel):
    items: list[SessionOut]


class TotpSetupResponse(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class CodeRequest(_Body):
    code: str = Field(min_length=1, max_length=32)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class DisableMfaRequest(_Body):
    password: GivenPassword
    code: str = Field(min_length=1, max_length=32)


class EventOut(BaseModel):
    id: uuid.UUID
    type: str
    created_at: datetime
    ip: str | None
    user_agent: str | None
    data: dict[str, Any]
    user_id: uuid.UUID | None = None


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None
