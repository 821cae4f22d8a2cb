"""Connected mailboxes: add (find the servers, test, seal the password), change (test first),
remove, and sync on request. The caller owns the transaction; nothing here commits.

The connection test runs before anything is written, so a request that fails it leaves the
database exactly as it was (a PATCH keeps the old, working settings).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.connection import (
    AUTH_FAILED,
    HOST_NOT_ALLOWED,
    ConnectionProblem,
    ImapLogin,
    ServerEndpoint,
    check_imap,
    check_smtp,
    resolve_route,
    tls_context,
)
from postwise.accounts.credentials import DecryptionError, open_password, seal_password
from postwise.accounts.discovery import DiscoveryFailed, MailServers, discover
from postwise.accounts.models import AccountKind, MailAccount, Security, SyncState
from postwise.accounts.schemas import (
    AccountCounts,
    AccountCreate,
    AccountList,
    AccountOut,
    AccountUpdate,
    DiscoveredServers,
    ServerOut,
)
from postwise.auth.kit import AuthKit
from postwise.auth.ratelimit import rule
from postwise.config import Settings
from postwise.events import request_sync
from postwise.kit.crypto import Keyring
from postwise.kit.errors import ProblemError
from postwise.mail.models import Folder
from postwise.users.models import User

log = structlog.get_logger(__name__)

# When only a security setting is given, the port its protocol registers for it.
DEFAULT_PORTS: dict[tuple[str, Security], int] = {
    ("imap", Security.SSL): 993,
    ("imap", Security.STARTTLS): 143,
    ("imap", Security.NONE): 143,
    ("smtp", Security.SSL): 465,
    ("smtp", Security.STARTTLS): 587,
    ("smtp", Security.NONE): 587,
}
_NO_COUNTS = AccountCounts(folders=0, messages=0, unread=0)
# Each test makes this server connect and sign in wherever the caller says: without a limit
# that is a password-guessing relay against any mail server, and a port scanner.
CONNECTION_TESTS = rule("mail-connection-test", "20/minute;200/hour")
# A look-up sends DNS queries and autoconfig requests for any domain the caller names: cheap,
# and what the add-mailbox form does as the address is typed, but not a free resolver.
DISCOVERY_LOOKUPS = rule("mail-discovery", "30/minute;300/hour")


@dataclass(frozen=True, slots=True)
class MailConnection:
    """Everything that decides whether we can sign in: a change to any of it is retested."""

    imap: ServerEndpoint
    smtp: ServerEndpoint
    username: str


def _security_for_port(server: str, port: int) -> Security:
    if server == "imap":
        return Security.STARTTLS if port == 143 else Security.SSL
    return Security.STARTTLS if port in (25, 587) else Security.SSL


def _given_endpoint(
    server: str, *, host: str, port: int | None, security: Security | None
) -> ServerEndpoint:
    if security is None:
        security = _security_for_port(server, port) if port is not None else Security.SSL
    return ServerEndpoint(host, port or DEFAULT_PORTS[(server, security)], security)


def _chosen_endpoint(
    server: str,
    *,
    host: str | None,
    port: int | None,
    security: Security | None,
    found: ServerEndpoint | None,
) -> ServerEndpoint:
    if host is not None:
        return _given_endpoint(server, host=host, port=port, security=security)
    assert found is not None  # discovery ran because a host was missing
    # A port or security sent without a host adjusts what discovery found.
    return ServerEndpoint(found.host, port or found.port, security or found.security)


async def _discover(email: str, settings: Settings) -> MailServers:
    try:
        return await discover(email, settings)
    except DiscoveryFailed:
        raise ProblemError(
            422,
            "discovery_failed",
            "The mail servers for this address could not be found; enter the IMAP and SMTP "
            "servers yourself.",
            title="Mail servers not found",
        ) from None


_SOURCES: dict[str, Literal["provider", "dns", "autoconfig"]] = {
    "provider": "provider",
    "dns-srv": "dns",
    "autoconfig": "autoconfig",
}


def _server_out(endpoint: ServerEndpoint) -> ServerOut:
    return ServerOut(host=endpoint.host, port=endpoint.port, security=endpoint.security)


async def discover_servers(*, user: User, email: str, kit: AuthKit) -> DiscoveredServers:
    """The servers `create_account` would use for `email` when none are given, so a form can
    show them (and let the user correct them) before anything signs in."""
    await kit.limiter.hit(DISCOVERY_LOOKUPS, str(user.id))
    found = await _discover(email, kit.settings)
    kind, _, provider = found.source.partition(":")
    source = _SOURCES.get(kind, "autoconfig")
    return DiscoveredServers(
        imap=_server_out(found.imap),
        smtp=_server_out(found.smtp),
        username=found.username,
        source=source,
        provider=provider or None,
        sign_in_hint=found.sign_in_hint,
    )


async def _resolve(body: AccountCreate, settings: Settings) -> tuple[MailConnection, str]:
    """The servers to use (the request's, else discovered ones) and a provider's sign-in hint."""
    found = None
    if body.imap_host is None or body.smtp_host is None:
        found = await _discover(body.email, settings)
    imap = _chosen_endpoint(
        "imap",
        host=body.imap_host,
        port=body.imap_port,
        security=body.imap_security,
        found=found.imap if found else None,
    )
    smtp = _chosen_endpoint(
        "smtp",
        host=body.smtp_host,
        port=body.smtp_port,
        security=body.smtp_security,
        found=found.smtp if found else None,
    )
    username = body.username or (found.username if found else None) or body.email
    return MailConnection(imap=imap, smtp=smtp, username=username), (
        found.sign_in_hint if found else ""
    )


def _connection_failed(problem: ConnectionProblem, hint: str) -> ProblemError:
    detail = problem.detail
    if hint and problem.code == AUTH_FAILED:
        detail = f"{detail} {hint}"
    if problem.code == HOST_NOT_ALLOWED:
        # A setting the user can change, so the answer names it like a validation error does.
        return ProblemError(
            422,
            problem.code,
            detail,
            title="This mail server may not be used",
            server=problem.server,
            field=f"{problem.server}_host",
        )
    return ProblemError(
        422, problem.code, detail, title="Cannot connect to the mail server", server=problem.server
    )


async def verify_connection(
    connection: MailConnection, password: str, *, settings: Settings, hint: str = ""
) -> list[str]:
    """Sign in to IMAP and SMTP (at once); the IMAP capabilities, or a 422 naming the server.

    Both hosts are resolved and judged by the private-hosts policy first: a refused one
    answers host_not_allowed before a packet is sent to either server."""
    context = tls_context(settings.mail_ca_file)
    timeout = settings.mail_connect_timeout
    policy = settings.mail_host_policy
    routes = await asyncio.gather(
        resolve_route(connection.imap, server="imap", policy=policy, timeout=timeout),
        resolve_route(connection.smtp, server="smtp", policy=policy, timeout=timeout),
        return_exceptions=True,
    )
    _raise_first_problem(connection, routes, hint)
    imap_route, smtp_route = routes
    assert not isinstance(imap_route, BaseException)
    assert not isinstance(smtp_route, BaseException)
    login = ImapLogin(connection.imap, connection.username, password)
    imap, smtp = await asyncio.gather(
        check_imap(login, imap_route, timeout=timeout, ssl_context=context),
        check_smtp(smtp_route, connection.username, password, timeout=timeout, ssl_context=context),
        return_exceptions=True,
    )
    _raise_first_problem(connection, [imap, smtp], hint)
    assert isinstance(imap, list)
    return imap


def _raise_first_problem(connection: MailConnection, outcomes: Sequence[object], hint: str) -> None:
    """The IMAP side's failure first, then the SMTP side's; other errors as they are."""
    for outcome in outcomes:
        if isinstance(outcome, ConnectionProblem):
            endpoint = connection.imap if outcome.server == "imap" else connection.smtp
            log.info(
                "mail_connection_test_failed",
                code=outcome.code,
                server=outcome.server,
                host=endpoint.host,
                port=endpoint.port,
                security=endpoint.security.value,
            )
            raise _connection_failed(outcome, hint) from outcome
        if isinstance(outcome, BaseException):
            raise outcome


def _account_exists() -> ProblemError:
    return ProblemError(409, "account_exists", "This mailbox is already connected.")


def _not_syncable() -> ProblemError:
    return ProblemError(
        409,
        "not_syncable",
        "This mailbox holds imported or demo mail and has no server to connect to.",
    )


async def create_account(
    db: AsyncSession, *, user: User, body: AccountCreate, kit: AuthKit
) -> MailAccount:
    existing = await db.scalar(
        select(MailAccount.id).where(
            MailAccount.user_id == user.id, MailAccount.email == body.email
        )
    )
    if existing is not None:
        raise _account_exists()
    await kit.limiter.hit(CONNECTION_TESTS, str(user.id))
    connection, hint = await _resolve(body, kit.settings)
    capabilities = await verify_connection(
        connection, body.password, settings=kit.settings, hint=hint
    )
    account = MailAccount(
        user_id=user.id,
        kind=AccountKind.IMAP,
        email=body.email,
        display_name=body.display_name.strip(),
        sender_name=user.name,
        credentials=seal_password(kit.keyring, body.password),
        sync_window_days=body.sync_window_days,
        sync_state=SyncState.INITIAL,
        capabilities=" ".join(capabilities),
        is_demo=False,
    )
    _apply_connection(account, connection)
    db.add(account)
    try:
        await db.flush()
    except IntegrityError:
        # The same address added by a parallel request between our check and this insert.
        raise _account_exists() from None
    request_sync(db, account.id)
    log.info("mail_account_added", account_id=str(account.id), imap_host=connection.imap.host)
    return account


def _connection_of(account: MailAccount) -> MailConnection:
    return MailConnection(
        imap=ServerEndpoint(account.imap_host, account.imap_port, Security(account.imap_security)),
        smtp=ServerEndpoint(account.smtp_host, account.smtp_port, Security(account.smtp_security)),
        username=account.username,
    )


def _apply_connection(account: MailAccount, connection: MailConnection) -> None:
    account.username = connection.username
    account.imap_host = connection.imap.host
    account.imap_port = connection.imap.port
    account.imap_security = connection.imap.security
    account.smtp_host = connection.smtp.host
    account.smtp_port = connection.smtp.port
    account.smtp_security = connection.smtp.security


def _patched_endpoint(
    server: str,
    current: ServerEndpoint,
    *,
    host: str | None,
    port: int | None,
    security: Security | None,
) -> ServerEndpoint:
    new_security = security or current.security
    new_port = current.port
    if port is not None:
        new_port = port
    elif (
        new_security is not current.security
        and current.port
        == DEFAULT_PORTS[
            (
                server,
                current.security,
            )
        ]
    ):
        # ssl on 993 switched to starttls means 143: the old default port no longer fits.
        new_port = DEFAULT_PORTS[(server, new_security)]
    return ServerEndpoint(host or current.host, new_port, new_security)


def _patched(current: MailConnection, changes: AccountUpdate) -> MailConnection:
    return MailConnection(
        imap=_patched_endpoint(
            "imap",
            current.imap,
            host=changes.imap_host,
            port=changes.imap_port,
            security=changes.imap_security,
        ),
        smtp=_patched_endpoint(
            "smtp",
            current.smtp,
            host=changes.smtp_host,
            port=changes.smtp_port,
            security=changes.smtp_security,
        ),
        username=changes.username or current.username,
    )


def _stored_password(account: MailAccount, keyring: Keyring) -> str:
    try:
        if account.credentials is None:
            raise DecryptionError("no stored password")
        return open_password(keyring, account.credentials)
    except DecryptionError:
        raise ProblemError(
            422,
            "password_required",
            "The stored password can no longer be read; send the password with this change.",
        ) from None


async def _reconnect(
    account: MailAccount,
    connection: MailConnection,
    *,
    password: str,
    kit: AuthKit,
) -> None:
    capabilities = await verify_connection(connection, password, settings=kit.settings)
    _apply_connection(account, connection)
    # Sealed again even when unchanged: that moves it under the current secret (rotation).
    account.credentials = seal_password(kit.keyring, password)
    account.capabilities = " ".join(capabilities)
    # The new settings just worked: an old sign-in error no longer describes the mailbox.
    account.last_error = None
    account.last_error_code = None
    if account.sync_state == SyncState.ERROR:
        account.sync_state = SyncState.IDLE if account.last_synced_at else SyncState.INITIAL


async def update_account(
    db: AsyncSession,
    *,
    account: MailAccount,
    changes: AccountUpdate,
    kit: AuthKit,
) -> MailAccount:
    current = _connection_of(account)
    wanted = _patched(current, changes)
    reconnect = wanted != current or changes.password is not None
    if reconnect:
        if account.kind == AccountKind.LOCAL:
            raise _not_syncable()
        password = changes.password or _stored_password(account, kit.keyring)
        await kit.limiter.hit(CONNECTION_TESTS, str(account.user_id))
        await _reconnect(account, wanted, password=password, kit=kit)
    window_changed = changes.sync_window_days not in (None, account.sync_window_days)
    if changes.sync_window_days is not None:
        account.sync_window_days = changes.sync_window_days
    if changes.display_name is not None:
        account.display_name = changes.display_name.strip()
    await db.flush()
    if reconnect or (window_changed and account.kind != AccountKind.LOCAL):
        request_sync(db, account.id)
    if reconnect:
        log.info("mail_account_reconnected", account_id=str(account.id), imap_host=wanted.imap.host)
    return account


async def delete_account(db: AsyncSession, account: MailAccount) -> None:
    """Removes the local mirror (folders, threads, messages cascade); the server is untouched.

    The DELETE locks the mailbox row before the cascade reaches its folders and messages: the
    order every writer of a mailbox follows (the sync loop's transactions and import batches
    take that row first), so a sync or import in progress is waited for, never deadlocked
    with, and stops at its next transaction."""
    account_id = account.id
    await db.delete(account)
    await db.flush()
    # Wakes the engine now, so a worker still holding this mailbox lets go of it.
    request_sync(db, account_id)
    log.info("mail_account_removed", account_id=str(account_id))


async def lock_for_deletion(db: AsyncSession, *, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Lock every mailbox of the user (in id order) before the user row is deleted; returns
    their ids.

    A user's deletion cascades to their mailboxes. Started from the user row alone it locks
    that row first and the mailboxes after, while a sync transaction or an import batch holds
    its mailbox's row and then, inserting rows that reference the user, needs the user's: a
    deadlock on PostgreSQL. With the mailboxes locked first, the deletion follows the writers'
    order: it waits for their transactions in progress, and theirs that start later wait for
    it and find the mailbox gone."""
    locked = await db.scalars(
        select(MailAccount.id)
        .where(MailAccount.user_id == user_id)
        .order_by(MailAccount.id)
        .with_for_update()
    )
    return list(locked.all())


def sync_now(db: AsyncSession, account: MailAccount) -> None:
    if account.kind == AccountKind.LOCAL:
        raise _not_syncable()
    request_sync(db, account.id)


async def _counts(
    db: AsyncSession, *, user_id: uuid.UUID, account_id: uuid.UUID | None = None
) -> dict[uuid.UUID, AccountCounts]:
    # The folders' own counters, kept by the sync engine: a sum over a few folders instead of
    # a scan over every message row.
    query = (
        select(
            Folder.account_id,
            func.count(Folder.id),
            func.coalesce(func.sum(Folder.total_count), 0),
            func.coalesce(func.sum(Folder.unread_count), 0),
        )
        .where(Folder.user_id == user_id)
        .group_by(Folder.account_id)
    )
    if account_id is not None:
        query = query.where(Folder.account_id == account_id)
    rows = (await db.execute(query)).all()
    return {
        row[0]: AccountCounts(folders=int(row[1]), messages=int(row[2]), unread=int(row[3]))
        for row in rows
    }


def _out(account: MailAccount, counts: AccountCounts) -> AccountOut:
    return AccountOut(
        id=account.id,
        kind=AccountKind(account.kind),
        email=account.email,
        display_name=account.display_name,
        username=account.username,
        imap_host=account.imap_host,
        imap_port=account.imap_port,
        imap_security=Security(account.imap_security),
        smtp_host=account.smtp_host,
        smtp_port=account.smtp_port,
        smtp_security=Security(account.smtp_security),
        sync_window_days=account.sync_window_days,
        sync_state=SyncState(account.sync_state),
        last_error=account.last_error,
        last_error_code=account.last_error_code,
        last_synced_at=account.last_synced_at,
        created_at=account.created_at,
        is_demo=account.is_demo,
        counts=counts,
    )


async def account_out(db: AsyncSession, account: MailAccount) -> AccountOut:
    counts = await _counts(db, user_id=account.user_id, account_id=account.id)
    return _out(account, counts.get(account.id, _NO_COUNTS))


async def list_accounts(db: AsyncSession, user: User) -> AccountList:
    accounts = (
        await db.scalars(
            select(MailAccount)
            .where(MailAccount.user_id == user.id)
            .order_by(MailAccount.created_at, MailAccount.id)
        )
    ).all()
    counts = await _counts(db, user_id=user.id) if accounts else {}
    return AccountList(
        items=[_out(account, counts.get(account.id, _NO_COUNTS)) for account in accounts]
    )
