"""What a user-named server (or a user-typed field) can make Postwise do or say.

- Nothing a remote server sent is echoed back: a service that greets (an SSH daemon, an
  internal API) would otherwise have its banner read out through the connection test.
- No CR, LF or other control character reaches an IMAP command, a log line or a header.
- Autodiscovery looks up no local-only domain, follows no redirect to a refused host, and
  parses no DTD, whatever the document's encoding.

Only the API and long-standing names are used, so the file also runs against the code from
before these rules (each test fails there).
"""

from __future__ import annotations

from typing import Any

import pytest

from postwise.accounts.discovery import DiscoveryFailed, discover, parse_autoconfig
from tests.accounts.conftest import Harness, account_body
from tests.accounts.servers import DnsServer, HttpServer, Recorder, Reply, banner_port
from tests.fixtures.dovecot import Dovecot

SECRET = "internal-secret-7731"
IMAP_GREETING = b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"


def imap_answering(**answers: bytes | list[bytes]) -> Reply:
    """A fake IMAP server: `answers` by command (the tag is prepended; a list answers the
    first time, the second time ...); LOGOUT hangs up."""
    seen: dict[str, int] = {}

    def reply(line: bytes) -> bytes | None:
        tag, _, rest = line.strip().partition(b" ")
        command = rest.split(b" ")[0].upper().decode()
        if command == "LOGOUT":
            return None
        given = answers.get(command, b"" if command == "CAPABILITY" else b"BAD not here")
        if isinstance(given, list):
            answer = given[min(seen.get(command, 0), len(given) - 1)]
            seen[command] = seen.get(command, 0) + 1
        else:
            answer = given
        if command == "CAPABILITY" and answer == b"":
            return b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK done\r\n"
        if answer.startswith(b"*"):
            return answer + b"\r\n"  # untagged (BYE): the server then hangs up
        return tag + b" " + answer + b"\r\n"

    return reply


async def post_account(h: Harness, body: dict[str, object]) -> dict[str, Any]:
    """POST /api/accounts as a new user; the problem document of the 422 it must answer."""
    headers = await h.sign_in()
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 422, response.text
    problem: dict[str, Any] = response.json()
    return problem


# --- no echo ---


@pytest.mark.backend
@pytest.mark.parametrize(
    ("banner", "answers", "security", "code", "words"),
    [
        (
            b"SSH-2.0-OpenSSH_9.6p1 " + SECRET.encode() + b"\r\n",
            {},
            "none",
            "not_imap",
            "did not greet as an IMAP server",
        ),
        (b"* BYE " + SECRET.encode() + b"\r\n", {}, "none", "host_unreachable", "BYE"),
        (
            IMAP_GREETING,
            {"LOGIN": b"NO [AUTHENTICATIONFAILED] " + SECRET.encode()},
            "none",
            "auth_failed",
            "the user name or password is wrong",
        ),
        (
            IMAP_GREETING,
            {"LOGIN": b"* BYE " + SECRET.encode()},
            "none",
            "auth_failed",
            "refused the user name or password",
        ),
        (
            IMAP_GREETING,
            # imaplib asks for CAPABILITY on connecting, the check again after LOGIN.
            {"LOGIN": b"OK signed in", "CAPABILITY": [b"", b"* BYE " + SECRET.encode()]},
            "none",
            "not_imap",
            "broke off the IMAP conversation",
        ),
        (
            IMAP_GREETING,
            {"STARTTLS": b"NO " + SECRET.encode()},
            "starttls",
            "tls_error",
            "refused to start it",
        ),
    ],
)
async def test_imap_server_text_is_never_echoed(
    h: Harness,
    smtp_server,
    banner: bytes,
    answers: dict[str, bytes | list[bytes]],
    security: str,
    code: str,
    words: str,
) -> None:
    with banner_port(banner, imap_answering(**answers)) as port:
        body = {
            "email": "ada@example.test",
            "password": "pw-123456",
            "imap_host": "127.0.0.1",
            "imap_port": port,
            "imap_security": security,
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        }
        problem = await post_account(h, body)
    assert (problem["code"], problem["server"]) == (code, "imap")
    detail = str(problem["detail"])
    assert words in detail
    assert SECRET not in detail and "OpenSSH" not in detail
    assert "b'" not in detail  # no repr of server bytes either


@pytest.mark.backend
async def test_smtp_greeting_text_is_never_echoed(
    h: Harness, dovecot: Dovecot, smtp_server, mailbox
) -> None:
    with banner_port(b"554 5.3.2 " + SECRET.encode() + b"\r\n") as port:
        problem = await post_account(h, account_body(dovecot, smtp_server, mailbox, smtp_port=port))
    assert (problem["code"], problem["server"]) == ("host_unreachable", "smtp")
    # The reply code is a number aiosmtplib parsed: that much may be shown.
    assert "554" in str(problem["detail"])
    assert SECRET not in str(problem["detail"])


@pytest.mark.backend
async def test_smtp_refusal_text_is_never_echoed(
    h: Harness, dovecot: Dovecot, make_smtp_server, mailbox
):
    server = make_smtp_server(users={mailbox[0]: "another-password"})
    problem = await post_account(h, account_body(dovecot, server, mailbox))
    assert (problem["code"], problem["server"]) == ("auth_failed", "smtp")
    assert "535" in str(problem["detail"])
    # aiosmtpd's own words for a failed AUTH: the server's text, so not ours to repeat.
    assert "credentials invalid" not in str(problem["detail"]).lower()


# --- control characters ---

CONTROL_CASES = [
    ("username", "ada@example.test\r\nA2 DELETE INBOX"),
    ("username", "ada\x00"),
    ("password", "pw-123456\r\nA2 DELETE INBOX"),
    ("password", "pw-123456\n"),
    ("password", "pw\x00123456"),
    ("display_name", "Work\r\nBcc: everyone@example.test"),
    ("display_name", "Work \x1b[2J"),
    ("display_name", "Work\u2028Line"),
    ("imap_host", "imap.example.test\r\n"),
    ("smtp_host", "\tsmtp.example.test"),
    ("email", "ada@example.test\r\n"),
    ("email", "ada@example.test\x00"),
]


@pytest.mark.backend
@pytest.mark.parametrize(("field", "value"), CONTROL_CASES)
async def test_control_characters_are_refused_before_connecting(
    h: Harness, field: str, value: str
) -> None:
    with Recorder(banner=IMAP_GREETING) as imap, Recorder() as smtp:
        body: dict[str, object] = {
            "email": "ada@example.test",
            "password": "pw-123456",
            "imap_host": "127.0.0.1",
            "imap_port": imap.port,
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
        }
        body[field] = value
        problem = await post_account(h, body)
    assert problem["code"] == "validation_error"
    assert field in {error["field"] for error in problem["errors"]}
    assert (imap.accepted, smtp.accepted) == (0, 0)


@pytest.mark.backend
async def test_control_characters_are_refused_in_a_change(
    h: Harness, dovecot: Dovecot, smtp_server, mailbox
) -> None:
    headers = await h.sign_in()
    created = await h.http.post(
        "/api/accounts", json=account_body(dovecot, smtp_server, mailbox), headers=headers
    )
    assert created.status_code == 201, created.text
    for field, value in [("username", "ada\r\nA2 LOGOUT"), ("display_name", "x\x07")]:
        response = await h.http.patch(
            f"/api/accounts/{created.json()['id']}", json={field: value}, headers=headers
        )
        assert response.status_code == 422, field
        assert [e["field"] for e in response.json()["errors"]] == [field]


def test_ordinary_odd_characters_still_pass() -> None:
    from postwise.accounts.schemas import AccountCreate

    body = AccountCreate(
        email="ada@example.test",
        password='tab\there and spaces, ünïcödé, "quotes" \\ slashes',
        username="Ada Lovelace",
        display_name="Ada — Work ✉",
    )
    assert body.password.startswith("tab\t")


# --- autodiscovery ---


@pytest.mark.backend
@pytest.mark.parametrize(
    "email",
    [
        "ada@localhost",
        "ada@mail.localhost",
        "ada@intranet",
        "ada@box.local",
        "ada@mail.corp.internal",
        "ada@nas.lan",
        "ada@router.home.arpa",
        "ada@127.1",
        "ada@0x7f.1",
    ],
)
async def test_local_domains_are_not_discovered(make_settings, email: str) -> None:
    with DnsServer({}) as dns_server, HttpServer({}) as http:
        settings = make_settings(
            mail_private_hosts="allow",
            dns_nameservers=[dns_server.address],
            autoconfig_urls=[http.url("/{domain}")],
        )
        with pytest.raises(DiscoveryFailed):
            await discover(email, settings)
    assert dns_server.queries == []
    assert http.requests == []


CONFIG = b"""<clientConfig version="1.1"><emailProvider id="example.test">
  <incomingServer type="imap"><hostname>imap.example.test</hostname><port>993</port>
    <socketType>SSL</socketType></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>465</port>
    <socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>"""


@pytest.mark.backend
async def test_autoconfig_does_not_follow_a_redirect_to_a_refused_host(make_settings) -> None:
    with HttpServer({"/config.xml": (200, CONFIG)}, host="127.0.0.2") as internal:
        redirects = {"/example.test": internal.url("/config.xml")}
        with DnsServer({}) as dns_server, HttpServer({}, redirects=redirects) as public:
            settings = make_settings(
                # The first server stands for a public one; 127.0.0.2 for the internal network.
                mail_private_hosts="127.0.0.1",
                dns_nameservers=[dns_server.address],
                autoconfig_urls=[public.url("/{domain}")],
            )
            with pytest.raises(DiscoveryFailed):
                await discover("ada@example.test", settings)
    assert public.requests == ["/example.test"]
    assert internal.requests == []


@pytest.mark.backend
async def test_autoconfig_follows_allowed_redirects_and_stops_at_a_loop(make_settings) -> None:
    redirects = {"/example.test": "/moved.xml", "/a.test": "/b", "/b": "/a.test"}
    with (
        DnsServer({}) as dns_server,
        HttpServer({"/moved.xml": (200, CONFIG)}, redirects=redirects) as http,
    ):
        settings = make_settings(
            dns_nameservers=[dns_server.address], autoconfig_urls=[http.url("/{domain}")]
        )
        found = await discover("ada@example.test", settings)
        assert found.imap.host == "imap.example.test"
        assert http.requests == ["/example.test", "/moved.xml"]
        with pytest.raises(DiscoveryFailed):
            await discover("ada@a.test", settings)
        # The first request and three redirects, then it gives up.
        assert len(http.requests) == 2 + 4


@pytest.mark.backend
async def test_autoconfig_is_not_fetched_from_a_refused_host(make_settings) -> None:
    with DnsServer({}) as dns_server, HttpServer({"/example.test": (200, CONFIG)}) as http:
        settings = make_settings(
            mail_private_hosts="deny",
            dns_nameservers=[dns_server.address],
            autoconfig_urls=[http.url("/{domain}")],
        )
        with pytest.raises(DiscoveryFailed):
            await discover("ada@example.test", settings)
    assert http.requests == []


@pytest.mark.backend
async def test_autoconfig_request_names_the_host_it_resolved(make_settings) -> None:
    with DnsServer({}) as dns_server, HttpServer({"/example.test": (200, CONFIG)}) as http:
        settings = make_settings(
            dns_nameservers=[dns_server.address],
            autoconfig_urls=[f"http://localhost:{http.port}/{{domain}}"],
        )
        assert (await discover("ada@example.test", settings)).source == "autoconfig"
    # Sent to the checked address, but still as a request for the name.
    assert http.hosts == [f"localhost:{http.port}"]


@pytest.mark.backend
async def test_a_discovered_private_server_is_refused_before_connecting(make_harness) -> None:
    with Recorder("127.0.0.2", banner=IMAP_GREETING) as imap, Recorder("127.0.0.2") as smtp:
        document = (
            CONFIG.replace(b"imap.example.test", b"127.0.0.2")
            .replace(b"smtp.example.test", b"127.0.0.2")
            .replace(b"<port>993</port>", f"<port>{imap.port}</port>".encode())
            .replace(b"<port>465</port>", f"<port>{smtp.port}</port>".encode())
        )
        with HttpServer({"/example.test": (200, document)}) as http:
            async with make_harness(
                mail_private_hosts="127.0.0.1", autoconfig_urls=[http.url("/{domain}")]
            ) as h:
                problem = await post_account(
                    h, {"email": "ada@example.test", "password": "pw-123456"}
                )
    assert (problem["code"], problem["field"]) == ("host_not_allowed", "imap_host")
    assert (imap.accepted, smtp.accepted) == (0, 0)


@pytest.mark.backend
async def test_a_private_srv_target_is_refused_before_connecting(make_harness) -> None:
    with Recorder(banner=IMAP_GREETING) as imap, Recorder() as smtp:
        records = {
            "_imaps._tcp.example.test.": [(0, 1, imap.port, "localhost.")],
            "_submissions._tcp.example.test.": [(0, 1, smtp.port, "localhost.")],
        }
        with DnsServer(records) as dns_server:
            async with make_harness(
                mail_private_hosts="deny", dns_nameservers=[dns_server.address]
            ) as h:
                problem = await post_account(
                    h, {"email": "ada@example.test", "password": "pw-123456"}
                )
    assert (problem["code"], problem["field"]) == ("host_not_allowed", "imap_host")
    assert (imap.accepted, smtp.accepted) == (0, 0)


# --- the autoconfig document ---

UTF16_WITH_ENTITY = """<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE clientConfig [<!ENTITY host "imap.attacker.example">]>
<clientConfig version="1.1"><emailProvider id="x">
  <incomingServer type="imap"><hostname>&host;</hostname><port>993</port>
    <socketType>SSL</socketType></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.x.example</hostname><port>465</port>
    <socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>"""

LAUGHS = (
    '<!DOCTYPE clientConfig [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]><clientConfig>&i;</clientConfig>"
)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_dtd_is_refused_in_any_encoding(encoding: str) -> None:
    document = UTF16_WITH_ENTITY.encode(encoding)
    if encoding != "utf-16":  # no BOM: the declaration has to say which one
        document = UTF16_WITH_ENTITY.replace("UTF-16", encoding.upper()).encode(encoding)
    assert b"<!DOCTYPE" not in document.upper()  # what the old byte search looked for
    assert parse_autoconfig(document, "ada@x.example") is None


def test_entity_expansion_is_refused_in_utf16() -> None:
    document = ('<?xml version="1.0" encoding="UTF-16"?>' + LAUGHS).encode("utf-16")
    assert parse_autoconfig(document, "ada@x.example") is None


def test_an_external_entity_is_refused_in_utf16() -> None:
    document = UTF16_WITH_ENTITY.replace(
        '<!ENTITY host "imap.attacker.example">', '<!ENTITY host SYSTEM "file:///etc/hostname">'
    ).encode("utf-16")
    assert parse_autoconfig(document, "ada@x.example") is None


def test_a_utf16_document_without_a_dtd_still_parses() -> None:
    document = (
        UTF16_WITH_ENTITY.replace(
            '<!DOCTYPE clientConfig [<!ENTITY host "imap.attacker.example">]>\n', ""
        )
        .replace("&host;", "imap.x.example")
        .encode("utf-16")
    )
    found = parse_autoconfig(document, "ada@x.example")
    assert found is not None
    assert found.imap.host == "imap.x.example"
