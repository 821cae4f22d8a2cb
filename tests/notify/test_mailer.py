"""SmtpMailer against a real SMTP server (aiosmtpd): the message, retries and refusals."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest

from postwise.notify.mailer import (
    EmailMessage,
    OutboxMailer,
    PermanentMailError,
    SmtpMailer,
    TransientMailError,
    build_mailer,
)
from postwise.notify.templates import render_email
from tests.fixtures.smtp import RECIPIENT_REJECTED, SmtpServer, _free_port

pytestmark = pytest.mark.backend

LINK = "https://mail.example.com/verify-email/?token=tok_7f3a9c"


class Sleeps:
    """Records the backoff instead of waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _message(**overrides: object) -> EmailMessage:
    message = render_email(
        "verify_email",
        to="Zoë Example <zoe@example.com>",
        context={"name": "Zoë", "link": LINK, "expires_hours": 24},
    )
    values = {
        "to": message.to,
        "subject": "Bestätige deine E-Mail-Adresse ✉",
        "text": message.text,
        "html": message.html,
        **overrides,
    }
    return EmailMessage(**values)  # type: ignore[arg-type]


async def test_delivers_a_multipart_message_with_proper_headers(
    smtp_server: SmtpServer, smtp_settings
) -> None:
    mailer = SmtpMailer(smtp_settings(smtp_server.port))
    before = datetime.now(UTC) - timedelta(seconds=2)
    await mailer.send(_message(headers={"X-Postwise-Template": "verify_email"}))

    [received] = await smtp_server.wait_for(1)
    [delivery] = smtp_server.deliveries
    assert delivery.mail_from == "noreply@postwise.example"
    assert delivery.rcpt_tos == ["zoe@example.com"]

    assert received["From"] == "Postwise <noreply@postwise.example>"
    assert received["To"] == "Zoë Example <zoe@example.com>"
    assert received["Subject"] == "Bestätige deine E-Mail-Adresse ✉"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["X-Postwise-Template"] == "verify_email"
    assert received["MIME-Version"] == "1.0"
    sent_at = email.utils.parsedate_to_datetime(received["Date"])
    assert before <= sent_at <= datetime.now(UTC) + timedelta(seconds=2)
    message_id = received["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith("@postwise.example>")

    # The raw header is an RFC 2047 encoded word: 7-bit clean for every relay.
    raw_headers = delivery.raw.split(b"\r\n\r\n", 1)[0]
    subject_line = next(line for line in raw_headers.split(b"\r\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in subject_line.lower()
    assert raw_headers.isascii()

    assert received.get_content_type() == "multipart/alternative"
    parts = list(received.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    text, html = (part.get_content().replace("\r\n", "\n") for part in parts)
    assert f"\n{LINK}\n" in text
    assert "Hi Zoë," in text
    assert f'href="{LINK}"' in html
    plain = received.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == text


async def test_message_ids_are_unique(smtp_server: SmtpServer, smtp_settings) -> None:
    mailer = SmtpMailer(smtp_settings(smtp_server.port))
    await mailer.send(_message())
    await mailer.send(_message())
    first, second = await smtp_server.wait_for(2)
    assert first["Message-ID"] != second["Message-ID"]


async def test_retries_a_temporary_failure_with_backoff(make_smtp_server, smtp_settings) -> None:
    server: SmtpServer = make_smtp_server(temporary_failures=2)
    sleeps = Sleeps()
    mailer = SmtpMailer(smtp_settings(server.port), sleep=sleeps)
    await mailer.send(_message())
    assert len(await server.wait_for(1)) == 1
    assert server.data_attempts == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_gives_up_as_transient_after_the_last_retry(make_smtp_server, smtp_settings) -> None:
    server: SmtpServer = make_smtp_server(temporary_failures=100)
    sleeps = Sleeps()
    mailer = SmtpMailer(smtp_settings(server.port), sleep=sleeps)
    with pytest.raises(TransientMailError, match="after 4 attempts"):
        await mailer.send(_message())
    assert server.data_attempts == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert server.deliveries == []


async def test_unreachable_server_is_transient(smtp_settings) -> None:
    sleeps = Sleeps()
    mailer = SmtpMailer(smtp_settings(_free_port()), retry_delays=(0.1, 0.2), sleep=sleeps)
    with pytest.raises(TransientMailError, match="after 3 attempts"):
        await mailer.send(_message())
    assert sleeps.delays == [0.1, 0.2]


async def test_rejected_recipient_is_permanent_without_retry(
    make_smtp_server, smtp_settings
) -> None:
    server: SmtpServer = make_smtp_server(reject_recipients=RECIPIENT_REJECTED)
    sleeps = Sleeps()
    mailer = SmtpMailer(smtp_settings(server.port), sleep=sleeps)
    with pytest.raises(PermanentMailError, match="550"):
        await mailer.send(_message())
    assert server.rcpt_attempts == 1
    assert sleeps.delays == []


async def test_rejected_data_is_permanent_without_retry(make_smtp_server, smtp_settings) -> None:
    server: SmtpServer = make_smtp_server(reject_data="554 5.7.1 Message refused as spam")
    sleeps = Sleeps()
    mailer = SmtpMailer(smtp_settings(server.port), sleep=sleeps)
    with pytest.raises(PermanentMailError, match="554"):
        await mailer.send(_message())
    assert server.data_attempts == 1
    assert sleeps.delays == []


async def test_logs_in_with_the_configured_account(make_smtp_server, smtp_settings) -> None:
    server: SmtpServer = make_smtp_server(users={"relay-user": "pw-Kx81!q"})
    settings = smtp_settings(server.port, smtp_username="relay-user", smtp_password="pw-Kx81!q")
    await SmtpMailer(settings).send(_message())
    await server.wait_for(1)
    assert server.deliveries[0].login == "relay-user"


async def test_wrong_password_is_permanent_and_never_logged(
    make_smtp_server, smtp_settings, logs
) -> None:
    server: SmtpServer = make_smtp_server(users={"relay-user": "the-right-one"})
    settings = smtp_settings(
        server.port, smtp_username="relay-user", smtp_password="Wr0ng-S3cret-pw"
    )
    sleeps = Sleeps()
    mailer = SmtpMailer(settings, sleep=sleeps)
    with pytest.raises(PermanentMailError, match="535") as caught:
        await mailer.send(_message())
    assert server.failed_logins >= 1
    assert sleeps.delays == []
    assert server.deliveries == []
    assert "mail_rejected" in logs.rendered()
    for text in (logs.rendered(), str(caught.value), repr(mailer)):
        assert "Wr0ng-S3cret-pw" not in text
        assert "tok_7f3a9c" not in text


@pytest.mark.parametrize("to", ["not-an-address", "zoe@example.com\r\nBcc: eve@example.com"])
async def test_an_invalid_recipient_is_permanent(
    smtp_server: SmtpServer, smtp_settings, to: str
) -> None:
    mailer = SmtpMailer(smtp_settings(smtp_server.port), sleep=Sleeps())
    with pytest.raises(PermanentMailError, match="invalid message"):
        await mailer.send(_message(to=to))
    assert smtp_server.rcpt_attempts == 0


async def test_build_mailer_picks_smtp_only_when_a_host_is_set(
    smtp_settings, make_settings, store, logs
) -> None:
    assert isinstance(build_mailer(smtp_settings(2525), store), SmtpMailer)
    assert isinstance(build_mailer(make_settings(env="dev", smtp_host=None), store), OutboxMailer)
    assert "smtp_not_configured" not in logs.rendered()
    # Production without a relay still works, but says loudly that nobody gets mail.
    production = make_settings(env="production", smtp_host=None)
    assert isinstance(build_mailer(production, store), OutboxMailer)
    assert [e["level"] for e in logs.events() if e["event"] == "smtp_not_configured"] == ["warning"]


def test_settings_validate_the_sender(smtp_settings) -> None:
    with pytest.raises(ValueError, match="POSTWISE_MAIL_FROM"):
        SmtpMailer(smtp_settings(2525, mail_from="Postwise"))
