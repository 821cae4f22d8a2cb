"""Schemathesis over every operation of the OpenAPI schema, signed in as an admin with mail.

Every case must get no 5xx and an answer the schema describes: a declared status, a declared
content type, a body of the declared shape; and data the schema calls invalid must get a 4xx.
Random ids rarely name a row, so the seeded mailbox's real threads, messages and attachments
are also sent once each. Operations that can end the caller's session run apart, each case on
a session of its own, so they cannot sign the main run out half-way. Generation is
derandomised: what fails here fails again on every run, on SQLite and on PostgreSQL.

`schema.parametrize()` is not used: its lazy form (`from_fixture`, needed because the app is
built from fixtures) rewrites `request.node._nodeid`, which pytest 9 no longer has. The same
parts run here by hand: `as_strategy()` per operation and mode, `call_and_validate()`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete, select

from postwise import db as database
from postwise.app import create_app
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.kit import build_auth_kit
from postwise.auth.sessions import start_session
from postwise.config import Settings
from postwise.imports.demo import DemoSource, demo_account, demo_messages
from postwise.imports.importer import import_messages
from postwise.mail.blobs import BlobStore
from postwise.store import create_store
from postwise.users.models import User
from tests.accounts.servers import closed_port

pytestmark = pytest.mark.backend

Operation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]

# Cases per operation and generation mode (valid, invalid): the module takes about 80 s on
# two cores, SQLite or PostgreSQL (the fuzzing itself about 60 s).
EXAMPLES = 20
# The operations that can end the session they are called with.
SESSION_ENDING = frozenset(
    {
        ("POST", "/api/auth/logout"),
        ("POST", "/api/auth/logout-all"),
        ("DELETE", "/api/auth/sessions/{session_id}"),
        ("POST", "/api/auth/password/change"),
        ("POST", "/api/auth/mfa/totp/disable"),
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@dataclass
class Target:
    """The app under test, its schema (loading it started the lifespan) and the fuzzing user:
    an administrator, with the demo mailbox when the run needs mail."""

    app: FastAPI
    schema: Any
    settings: Settings
    user_id: uuid.UUID

    def session_headers(self) -> dict[str, str]:
        """A new session of the user, as an API client (tokens in bodies, no cookies)."""
        token = asyncio.run(_start_session(self.settings, self.user_id))
        return {"Authorization": f"Bearer {token}", "X-Postwise-Client": "api"}


async def _seed(settings: Settings, *, with_mail: bool) -> tuple[uuid.UUID, set[uuid.UUID]]:
    """The fuzzing user (and the demo mailbox); returns its id and the users there before."""
    engine = database.create_engine(settings, url=settings.database_url)
    sessionmaker = database.create_sessionmaker(engine)
    kit = build_auth_kit(settings, create_store(None))
    try:
        async with sessionmaker() as db:
            before = set((await db.scalars(select(User.id))).all())
            user = User(
                email=f"fuzz-{uuid.uuid4().hex[:10]}@example.com",
                name="Fuzz Admin",
                password_hash=await kit.hasher.hash(uuid.uuid4().hex),
                email_verified_at=database.utcnow(),
                is_admin=True,
            )
            db.add(user)
            await db.flush()
            account = await demo_account(db, user_id=user.id, reset=False) if with_mail else None
            await db.commit()
        if account is not None:
            await import_messages(
                sessionmaker,
                account_id=account.id,
                source=DemoSource(demo_messages(account.created_at)),
                blobs=BlobStore(settings.effective_blob_dir),
                executor=None,
            )
        return user.id, before
    finally:
        kit.hasher.close()
        await engine.dispose()


async def _start_session(settings: Settings, user_id: uuid.UUID) -> str:
    # Straight into the database, as a sign-in would: logging in over HTTP for every case
    # would run into the login rate limits the fuzzer's own /login cases use up.
    engine = database.create_engine(settings, url=settings.database_url)
    kit = build_auth_kit(settings, create_store(None))
    try:
        async with engine.begin() as conn:
            tokens = await start_session(
                conn,
                kit,
                user_id=user_id,
                client=ClientInfo(ip="testclient", user_agent="schemathesis"),
                device_hash=None,
                mfa=False,
            )
        return tokens.access_token
    finally:
        kit.hasher.close()
        await engine.dispose()


async def _forget_users_since(settings: Settings, known: set[uuid.UUID]) -> None:
    """The fuzzing user and whoever the fuzzer registered go (their rows cascade), so later
    tests on this database see it as it was."""
    engine = database.create_engine(settings, url=settings.database_url)
    try:
        async with engine.begin() as conn:
            new = set((await conn.scalars(select(User.id))).all()) - known
            if new:
                await conn.execute(delete(User).where(User.id.in_(new)))
    finally:
        await engine.dispose()


def _target(make_settings: Callable[..., Settings], *, with_mail: bool) -> Iterator[Target]:
    settings = make_settings(
        # Connection tests go wherever the fuzzer says: fail fast, and discovery never leaves
        # the machine (no autoconfig URLs, DNS on a closed port).
        mail_connect_timeout=1,
        discovery_timeout=1,
        autoconfig_urls=[],
        dns_nameservers=[f"127.0.0.1:{closed_port()}"],
    )
    user_id, known = asyncio.run(_seed(settings, with_mail=with_mail))
    app = create_app(settings)
    try:
        # Starts the lifespan in schemathesis' event loop thread; its pytest plugin ends it
        # when the test ends.
        schema = schemathesis.openapi.from_asgi(
            "/api/openapi.json", app, config=SchemathesisConfig()
        )
        yield Target(app=app, schema=schema, settings=settings, user_id=user_id)
    finally:
        asyncio.run(_forget_users_since(settings, known))


@pytest.fixture
def mail_target(make_settings: Callable[..., Settings]) -> Iterator[Target]:
    yield from _target(make_settings, with_mail=True)


@pytest.fixture
def bare_target(make_settings: Callable[..., Settings]) -> Iterator[Target]:
    yield from _target(make_settings, with_mail=False)


def _operations(schema: Any, *, session_ending: bool) -> list[Operation]:
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()  # raises if the schema itself is invalid
        if ((operation.method.upper(), operation.path) in SESSION_ENDING) == session_ending:
            found.append(operation)
    return found


def _fuzz(operation: Operation, send: Callable[[AnyCase], None]) -> list[str]:
    """Valid and invalid cases for one operation: the failures, described rather than raised,
    so one run lists every operation that fails."""
    failures = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
            print_blob=False,
        )
        @hypothesis.given(case=operation.as_strategy(mode))
        def run(case: AnyCase) -> None:
            send(case)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            continue  # nothing to make invalid: no parameters, no body
        # Check failures arrive as a FailureGroup, a BaseExceptionGroup.
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.label} [{mode.value}]\n{_describe(error)}")
    return failures


def _describe(error: BaseException) -> str:
    # Hypothesis wraps a failure it could not reproduce (a flaky one) in a group of its own:
    # the check failures, with their curl command, are inside.
    parts = [str(error) or repr(error)]
    if isinstance(error, BaseExceptionGroup):
        parts += [_describe(inner) for inner in error.exceptions]
    return "\n".join(parts)


# About a minute; the margin over the suite's 120 s is for a loaded machine, not for more
# examples (a timeout inside Hypothesis reads as a flaky failure).
@pytest.mark.timeout(300)
def test_every_operation_conforms(mail_target: Target) -> None:
    headers = mail_target.session_headers()

    def send(case: AnyCase) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    failures = [
        failure
        for operation in _operations(mail_target.schema, session_ending=False)
        for failure in _fuzz(operation, send)
    ]
    assert not failures, "\n\n".join(failures)


@pytest.mark.timeout(300)
def test_session_ending_operations_conform(bare_target: Target) -> None:
    def send(case: AnyCase) -> None:
        # A session per case: one logout must not sign the next case out.
        case.call_and_validate(headers=bare_target.session_headers(), checks=CHECKS)

    operations = _operations(bare_target.schema, session_ending=True)
    assert {(op.method.upper(), op.path) for op in operations} == SESSION_ENDING
    failures = [failure for operation in operations for failure in _fuzz(operation, send)]
    assert not failures, "\n\n".join(failures)


class RealCalls:
    """Explicit cases on the seeded mailbox, each validated against the schema like a fuzzed
    one; `json()` gives the checked answer's body."""

    def __init__(self, target: Target) -> None:
        self.schema = target.schema
        self.headers = target.session_headers()

    def __call__(self, method: str, path: str, **parts: Any) -> Any:
        case = self.schema[path][method].Case(**parts)
        return case.call_and_validate(headers=self.headers, checks=CHECKS)

    def json(self, method: str, path: str, **parts: Any) -> Any:
        return self(method, path, **parts).json()


def test_the_seeded_mailbox_conforms(mail_target: Target) -> None:
    call = RealCalls(mail_target)
    account = call.json("GET", "/api/accounts")["items"][0]
    folders = call.json("GET", "/api/folders", query={"account_id": account["id"]})["items"]
    assert folders
    for role in ["inbox", "sent", "archive", "trash", "junk", "all"]:
        call("GET", "/api/threads", query={"folder": role, "limit": 100})
    threads = {
        thread["id"]: thread
        for folder in folders
        for thread in call.json("GET", "/api/threads", query={"folder": folder["id"]})["items"]
    }
    assert len(threads) >= 20
    messages = [
        message
        for thread_id in threads
        for message in call.json(
            "GET", "/api/threads/{thread_id}", path_parameters={"thread_id": thread_id}
        )["messages"]
    ]
    with_files = [message for message in messages if message["attachments"]]
    assert with_files, "the demo mailbox has attachments"
    for message in with_files:
        for attachment in message["attachments"]:
            call(
                "GET",
                "/api/messages/{message_id}/attachments/{position}",
                path_parameters={"message_id": message["id"], "position": attachment["position"]},
            )
    # Beyond PostgreSQL's INTEGER, then beyond a BIGINT: the driver overflowed on both.
    for position in (2**31, 2**63):
        response = call(
            "GET",
            "/api/messages/{message_id}/attachments/{position}",
            path_parameters={"message_id": with_files[0]["id"], "position": position},
        )
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    first = {"message_id": messages[0]["id"]}
    call("GET", "/api/messages/{message_id}/raw", path_parameters=first)
    call("PATCH", "/api/messages/{message_id}", path_parameters=first, body={"show_images": True})
    for q in ["has:attachment", "is:unread", "in:anywhere larger:1k", "from:example.com"]:
        call("GET", "/api/search", query={"q": q, "account_id": account["id"]})
    ids = {"account_id": account["id"]}
    call("GET", "/api/accounts/{account_id}", path_parameters=ids)
    call("PATCH", "/api/accounts/{account_id}", path_parameters=ids, body={"display_name": "Mine"})
    call("POST", "/api/accounts/{account_id}/sync", path_parameters=ids)  # local: 409
    thread_ids = list(threads)
    for action in ["read", "unread", "star", "unstar", "archive", "spam", "trash", "delete"]:
        picked, thread_ids = thread_ids[:2], thread_ids[2:]
        call("POST", "/api/threads/actions", body={"thread_ids": picked, "action": action})
