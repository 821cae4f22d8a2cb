"""/api/accounts: the signed-in user's connected mailboxes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from postwise.accounts import service
from postwise.accounts.deps import OwnedAccount
from postwise.accounts.schemas import (
    AccountCreate,
    AccountList,
    AccountOut,
    AccountUpdate,
    DiscoveredServers,
    DiscoverRequest,
    SyncQueued,
)
from postwise.auth.deps import CurrentUser
from postwise.auth.kit import AuthKitDep
from postwise.auth.throttle import ACCOUNT_CONNECT, ACCOUNT_DISCOVER, throttled
from postwise.deps import SessionDep
from postwise.kit.errors import problem_responses

router = APIRouter(prefix="/api/accounts", tags=["accounts"], responses=problem_responses(401, 422))


@router.get("", response_model=AccountList)
async def list_accounts(user: CurrentUser, db: SessionDep) -> AccountList:
    return await service.list_accounts(db, user)


@router.post(
    "",
    status_code=201,
    response_model=AccountOut,
    responses=problem_responses(409, 429),
    dependencies=[throttled(ACCOUNT_CONNECT)],
    summary="Connect a mailbox",
    description="Finds the servers when they are not given (built-in table, DNS SRV, "
    "autoconfig), signs in to IMAP and SMTP, and only then saves the account. A failed "
    "sign-in answers 422 with `code` (auth_failed, host_unreachable, tls_error, timeout, "
    "not_imap, not_smtp) and `server` (imap or smtp). A server on a private address that "
    "POSTWISE_MAIL_PRIVATE_HOSTS does not allow answers 422 `host_not_allowed` with `field` "
    "(imap_host or smtp_host), before anything is sent to it.",
)
async def create_account(
    body: AccountCreate,
    response: Response,
    user: CurrentUser,
    db: SessionDep,
    kit: AuthKitDep,
) -> AccountOut:
    account = await service.create_account(db, user=user, body=body, kit=kit)
    response.headers["Location"] = f"{router.prefix}/{account.id}"
    return await service.account_out(db, account)


@router.post(
    "/discover",
    response_model=DiscoveredServers,
    responses=problem_responses(429),
    dependencies=[throttled(ACCOUNT_DISCOVER)],
    summary="Find a mailbox's servers",
    description="The IMAP and SMTP servers for an address, from the same sources connecting "
    "uses (built-in table, DNS SRV, autoconfig), without signing in anywhere. 422 "
    "`discovery_failed` when no source knows them; 429 after 30 look-ups a minute.",
)
async def discover_servers(
    body: DiscoverRequest, user: CurrentUser, kit: AuthKitDep
) -> DiscoveredServers:
    return await service.discover_servers(user=user, email=body.email, kit=kit)


@router.get("/{account_id}", response_model=AccountOut, responses=problem_responses(404))
async def get_account(account: OwnedAccount, db: SessionDep) -> AccountOut:
    return await service.account_out(db, account)


@router.patch(
    "/{account_id}",
    response_model=AccountOut,
    responses=problem_responses(404, 409, 429),
    dependencies=[throttled(ACCOUNT_CONNECT)],
    description="A change to the servers, user name or password is tested first; when the "
    "test fails (422, same codes as connecting) nothing changes.",
)
async def update_account(
    body: AccountUpdate,
    account: OwnedAccount,
    db: SessionDep,
    kit: AuthKitDep,
) -> AccountOut:
    await service.update_account(db, account=account, changes=body, kit=kit)
    return await service.account_out(db, account)


@router.delete(
    "/{account_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404),
    description="Removes the mailbox and its local copy of the mail; the mail on the server "
    "is not touched.",
)
async def delete_account(account: OwnedAccount, db: SessionDep) -> Response:
    await service.delete_account(db, account)
    return Response(status_code=204)


@router.post(
    "/{account_id}/sync",
    status_code=202,
    response_model=SyncQueued,
    responses=problem_responses(404, 409),
)
async def sync_account(account: OwnedAccount, db: SessionDep) -> SyncQueued:
    service.sync_now(db, account)
    return SyncQueued()
