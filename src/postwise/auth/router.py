"""/api/auth: registration, verification, login, tokens, passwords, sessions, MFA, events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from postwise.auth import account, login, ratelimit, registration, sessions
from postwise.auth.cookies import (
    DEVICE_COOKIE,
    REFRESH_COOKIE,
    clear_refresh_cookie,
    clear_refresh_cookie_header,
    is_api_client,
    require_csrf_header,
    set_device_cookie,
    set_refresh_cookie,
)
from postwise.auth.deps import ClientDep, PrincipalDep, bearer_token
from postwise.auth.errors import not_authenticated
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit, AuthKitDep
from postwise.auth.models import EventType
from postwise.auth.passwords import password_strength
from postwise.auth.queries import MAX_PAGE, list_events, list_sessions, own_session
from postwise.auth.schemas import (
    Accepted,
    ChangePasswordRequest,
    CodeRequest,
    DisableMfaRequest,
    EmailRequest,
    EventPage,
    LoginRequest,
    MfaLoginRequest,
    MfaRequired,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    ResetRequest,
    SessionList,
    StatusResponse,
    StrengthRequest,
    StrengthResponse,
    TokenRequest,
    TokenResponse,
    TotpSetupResponse,
)
from postwise.auth.sessions import IssuedTokens, RefreshError
from postwise.auth.tokens import InvalidTokenError
from postwise.deps import SessionDep
from postwise.kit.errors import ProblemError, problem_responses
from postwise.kit.ids import not_found_if_invalid

router = APIRouter(
    prefix="/api/auth",
    tags=["auth"],
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429),
)

_REGISTER_ACCEPTED = "If the address can be used, a message is on its way to it."
_REGISTER_SIGNED_IN = (
    "The first account of this instance: it is the administrator, trusted without a "
    "confirmation link (no mail server is configured), and signed in."
)


def _token_answer(
    request: Request, response: Response, kit: AuthKit, tokens: IssuedTokens
) -> TokenResponse:
    if is_api_client(request):
        return TokenResponse(
            access_token=tokens.access_token,
            expires_in=tokens.expires_in,
            refresh_token=tokens.refresh_token,
        )
    set_refresh_cookie(response, kit, tokens.refresh_token, tokens.refresh_expires_at)
    return TokenResponse(access_token=tokens.access_token, expires_in=tokens.expires_in)


def _device(request: Request) -> login.Device:
    browser = not is_api_client(request)
    cookie = request.cookies.get(DEVICE_COOKIE) if browser else None
    valid = cookie if cookie and 16 <= len(cookie) <= 64 else None
    return login.Device(cookie_id=valid, is_browser=browser)


def _login_answer(
    request: Request, response: Response, kit: AuthKit, result: login.LoginResult
) -> TokenResponse | MfaRequired:
    if result.mfa_token is not None:
        return MfaRequired(mfa_token=result.mfa_token)
    assert result.tokens is not None
    if result.device_cookie and result.device_cookie != request.cookies.get(DEVICE_COOKIE):
        set_device_cookie(response, kit, result.device_cookie)
    return _token_answer(request, response, kit, result.tokens)


@router.post(
    "/register",
    status_code=202,
    responses={
        201: {"model": RegisterResponse, "description": "The instance's first user, signed in."}
    },
)
async def register(
    body: RegisterRequest,
    request: Request,
    response: Response,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> RegisterResponse:
    outcome = await registration.register(
        db,
        kit,
        email=body.email,
        password=body.password,
        name=body.name.strip(),
        invite_token=body.invite_token,
        client=client,
    )
    if outcome.ready is None:
        return RegisterResponse(status="accepted", detail=_REGISTER_ACCEPTED, admin=outcome.admin)
    result = await login.sign_in_registered(
        db, kit, user=outcome.ready, client=client, device=_device(request)
    )
    answer = _login_answer(request, response, kit, result)
    assert isinstance(answer, TokenResponse)  # a new account has no second factor yet
    response.status_code = 201
    return RegisterResponse(
        status="signed_in", detail=_REGISTER_SIGNED_IN, admin=outcome.admin, session=answer
    )


@router.post("/verify-email")
async def verify_email(
    body: TokenRequest, db: SessionDep, kit: AuthKitDep, client: ClientDep
) -> StatusResponse:
    await registration.verify_email(db, kit, token=body.token, client=client)
    return StatusResponse(status="verified")


@router.post("/verify-email/resend", status_code=202)
async def resend_verification(
    body: EmailRequest, db: SessionDep, kit: AuthKitDep, client: ClientDep
) -> Accepted:
    await registration.request_verification(db, kit, email=body.email, client=client)
    return Accepted(detail="If the address needs confirming, a new link is on its way.")


@router.post("/login", response_model=TokenResponse | MfaRequired)
async def sign_in(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> TokenResponse | MfaRequired:
    result = await login.login(
        db, kit, email=body.email, password=body.password, client=client, device=_device(request)
    )
    return _login_answer(request, response, kit, result)


@router.post("/login/mfa", response_model=TokenResponse)
async def sign_in_mfa(
    body: MfaLoginRequest,
    request: Request,
    response: Response,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> TokenResponse | MfaRequired:
    result = await login.login_mfa(
        db, kit, mfa_token=body.mfa_token, code=body.code, client=client, device=_device(request)
    )
    return _login_answer(request, response, kit, result)


def _presented_refresh_token(request: Request, body: RefreshRequest | None) -> str | None:
    if is_api_client(request):
        return body.refresh_token if body else None
    require_csrf_header(request)
    return request.cookies.get(REFRESH_COOKIE)


@router.post("/refresh")
async def refresh(
    request: Request,
    response: Response,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    token = _presented_refresh_token(request, body)
    try:
        tokens = await sessions.rotate(db, kit, refresh_token=token or "", client=client)
    except RefreshError as error:
        raise ProblemError(
            401,
            "invalid_refresh_token",
            "Sign in again.",
            headers=clear_refresh_cookie_header(kit),
            commit=error.reason == "reused",
        ) from error
    return _token_answer(request, response, kit, tokens)


@router.post("/logout", status_code=204)
async def logout(
    request: Request,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
    body: RefreshRequest | None = None,
) -> Response:
    """Ends this session, found from the bearer token or else from the refresh token."""
    session_id: uuid.UUID | None = None
    bearer = bearer_token(request)
    if bearer is not None:
        try:
            session_id = kit.codec.decode("access", bearer).session_id
        except InvalidTokenError:
            session_id = None
    auth_session = await own_session(db, session_id) if session_id else None
    if auth_session is None:
        token = _presented_refresh_token(request, body)
        auth_session = await sessions.find_refresh_session(db, kit, token or "")
    if auth_session is None:
        raise not_authenticated()
    await sessions.revoke_session(db, kit, auth_session, reason="logout")
    record_event(
        db,
        EventType.LOGOUT,
        user_id=auth_session.user_id,
        client=client,
        session_id=str(auth_session.id),
    )
    answer = Response(status_code=204)
    clear_refresh_cookie(answer, kit)
    return answer


@router.post("/logout-all", status_code=204)
async def logout_all(
    principal: PrincipalDep, db: SessionDep, kit: AuthKitDep, client: ClientDep
) -> Response:
    count = await sessions.revoke_user_sessions(
        db, kit, user_id=principal.user.id, reason="logout_all"
    )
    record_event(db, EventType.LOGOUT, user_id=principal.user.id, client=client, sessions=count)
    answer = Response(status_code=204)
    clear_refresh_cookie(answer, kit)
    return answer


@router.post("/password/forgot", status_code=202)
async def forgot_password(
    body: EmailRequest, db: SessionDep, kit: AuthKitDep, client: ClientDep
) -> Accepted:
    await account.request_reset(db, kit, email=body.email, client=client)
    return Accepted(detail="If the address has an account, a reset link is on its way.")


@router.post("/password/reset")
async def reset_password(
    body: ResetRequest, db: SessionDep, kit: AuthKitDep, client: ClientDep
) -> StatusResponse:
    await account.reset_password(
        db, kit, token=body.token, new_password=body.new_password, client=client
    )
    return StatusResponse(status="reset")


@router.post("/password/change")
async def change_password(
    body: ChangePasswordRequest,
    principal: PrincipalDep,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> StatusResponse:
    await account.change_password(
        db,
        kit,
        user=principal.user,
        session_id=principal.session_id,
        current_password=body.current_password,
        new_password=body.new_password,
        client=client,
    )
    return StatusResponse(status="changed")


@router.post("/password/strength")
async def strength(body: StrengthRequest, kit: AuthKitDep, client: ClientDep) -> StrengthResponse:
    await kit.limiter.hit(ratelimit.STRENGTH_IP, client.ip)
    result = password_strength(body.password, [v for v in (body.email, body.name) if v])
    return StrengthResponse(
        score=result.score,
        acceptable=result.acceptable,
        warning=result.warning,
        suggestions=result.suggestions,
        crack_time_display=result.crack_time_display,
    )


@router.get("/sessions")
async def get_sessions(principal: PrincipalDep, db: SessionDep) -> SessionList:
    return SessionList(items=await list_sessions(db, principal.user.id, principal.session_id))


@router.delete("/sessions/{session_id}", status_code=204)
async def delete_session(
    session_id: Annotated[uuid.UUID, Path(), not_found_if_invalid("session")],
    principal: PrincipalDep,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> Response:
    auth_session = await own_session(db, session_id, user_id=principal.user.id)
    if auth_session is None or auth_session.revoked_at is not None:
        raise ProblemError(404, "not_found", "No such session.")
    await sessions.revoke_session(db, kit, auth_session, reason="revoked_by_user")
    record_event(
        db,
        EventType.SESSION_REVOKED,
        user_id=principal.user.id,
        client=client,
        session_id=str(session_id),
    )
    return Response(status_code=204)


@router.post("/mfa/totp/setup")
async def totp_setup(principal: PrincipalDep, kit: AuthKitDep) -> TotpSetupResponse:
    setup = account.start_totp(kit, principal.user)
    return TotpSetupResponse(
        secret=setup.secret, otpauth_uri=setup.otpauth_uri, qr_svg=setup.qr_svg
    )


@router.post("/mfa/totp/enable")
async def totp_enable(
    body: CodeRequest, principal: PrincipalDep, db: SessionDep, kit: AuthKitDep, client: ClientDep
) -> RecoveryCodes:
    codes = await account.enable_totp(db, kit, user=principal.user, code=body.code, client=client)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/mfa/totp/disable", status_code=204)
async def totp_disable(
    body: DisableMfaRequest,
    principal: PrincipalDep,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> Response:
    await account.disable_totp(
        db, kit, user=principal.user, password=body.password, code=body.code, client=client
    )
    return Response(status_code=204)


@router.get("/events")
async def events(
    principal: PrincipalDep,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> EventPage:
    return await list_events(db, user_id=principal.user.id, limit=limit, cursor=cursor)
