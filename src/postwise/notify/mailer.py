"""The Mailer: SMTP delivery with retries, or the dev outbox when no SMTP host is configured.

Transactional mail carries single-use links (verification, reset, invitations) whose tokens are
credentials: nothing here logs a body, a link or the SMTP password.
"""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
import ssl
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from typing import Final

import aiosmtplib
import structlog

from postwise.config import Environment, Settings
from postwise.notify.outbox import DevOutbox
from postwise.store import Store

log = structlog.get_logger(__name__)

# One try, then a retry after each delay: transient trouble (a greylisting 451, a restarting
# relay) usually clears within seconds; longer outages are left to the job's own retries.
DEFAULT_RETRY_DELAYS: Final[tuple[float, ...]] = (0.5, 1.0, 2.0)


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


class MailError(Exception):
    """Delivery failed; the message says why without quoting the mail itself."""


class PermanentMailError(MailError):
    """Retrying cannot help: the server refused the mail (5xx) or the message is invalid."""


class TransientMailError(MailError):
    """Still failing after every retry; a later attempt may succeed."""


class Mailer(ABC):
    @abstractmethod
    async def send(self, message: EmailMessage) -> None: ...


Sleep = Callable[[float], Awaitable[None]]


def _address_domain(address: str) -> str:
    _, addr = email.utils.parseaddr(address)
    _, _, domain = addr.rpartition("@")
    return domain or "localhost"


def build_mime(message: EmailMessage, *, sender: str, now: datetime | None = None) -> MimeMessage:
    """A multipart/alternative message: text first, HTML last (the part clients prefer).

    Raises ValueError for a header value that could not be sent (e.g. a line break in `to`).
    """
    for name, value in (("To", message.to), ("Subject", message.subject)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"line break in the {name} header")
    mime = MimeMessage(policy=email.policy.default)
    mime["From"] = sender
    mime["To"] = message.to
    # The policy encodes a non-ASCII subject as an RFC 2047 encoded word when serialising.
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(now or datetime.now(UTC))
    mime["Message-ID"] = email.utils.make_msgid(domain=_address_domain(sender))
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this mail
    for name, value in message.headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"line break in the {name} header")
        del mime[name]
        mime[name] = value
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    mime.add_alternative(message.html, subtype="html", charset="utf-8")
    return mime


def _recipient(to: str) -> str:
    _, addr = email.utils.parseaddr(to)
    if "@" not in addr:
        raise ValueError("the recipient is not an email address")
    return addr


def _is_transient(error: BaseException) -> bool:
    """4xx replies, dropped connections and timeouts may clear up; everything else will not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return any(400 <= refused.code < 500 for refused in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 400 <= error.code < 500
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return False  # a certificate problem is configuration, not bad luck
    # Refused or dropped connections and timeouts (aiosmtplib's included) are all OSErrors.
    return isinstance(error, OSError)


def _describe(error: BaseException) -> dict[str, object]:
    # The reply code and the exception type say enough; server texts can echo the message.
    code = getattr(error, "code", None)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        code = error.recipients[0].code
    return {"error": type(error).__name__, "smtp_code": code}


class SmtpMailer(Mailer):
    """Delivers through the configured SMTP relay, one connection per message."""

    def __init__(
        self,
        settings: Settings,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs POSTWISE_SMTP_HOST")
        self.settings = settings
        self.host = settings.smtp_host
        self.retry_delays = tuple(retry_delays)
        self._sleep = sleep
        _, self.envelope_sender = email.utils.parseaddr(settings.mail_from)
        if "@" not in self.envelope_sender:
            raise ValueError("POSTWISE_MAIL_FROM must contain an email address")
        if settings.smtp_username and settings.smtp_security == "none":
            log.warning(
                "smtp_credentials_without_tls",
                host=self.host,
                hint="set POSTWISE_SMTP_SECURITY=starttls or ssl",
            )

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.host!r}, port={self.settings.smtp_port})"

    def _client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password if settings.smtp_username else None,
            use_tls=settings.smtp_security == "ssl",
            # False, not None: None would let aiosmtplib decide, and "none" must mean none.
            start_tls=settings.smtp_security == "starttls",
            timeout=settings.smtp_timeout,
        )

    async def _deliver(self, mime: MimeMessage, recipient: str) -> None:
        async with self._client() as client:
            await client.send_message(mime, sender=self.envelope_sender, recipients=[recipient])

    async def send(self, message: EmailMessage) -> None:
        try:
            mime = build_mime(message, sender=self.settings.mail_from)
            recipient = _recipient(message.to)
        except ValueError as error:
            raise PermanentMailError(f"invalid message: {error}") from None
        delays = iter(self.retry_delays)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._deliver(mime, recipient)
            except Exception as error:
                details = _describe(error)
                if not _is_transient(error):
                    log.warning("mail_rejected", attempt=attempt, **details)
                    raise PermanentMailError(
                        f"the SMTP server refused the message ({details['error']}, "
                        f"code {details['smtp_code']})"
                    ) from error
                delay = next(delays, None)
                if delay is None:
                    log.warning("mail_send_failed", attempts=attempt, **details)
                    raise TransientMailError(
                        f"SMTP delivery failed after {attempt} attempts ({details['error']}, "
                        f"code {details['smtp_code']})"
                    ) from error
                log.info("mail_send_retry", attempt=attempt, delay=delay, **details)
                await self._sleep(delay)
            else:
                if attempt > 1:
                    log.info("mail_sent_after_retry", attempts=attempt)
                return


class OutboxMailer(Mailer):
    """Keeps mail in the dev outbox instead of sending it (no SMTP host configured)."""

    def __init__(self, store: Store) -> None:
        self.outbox = DevOutbox(store)

    async def send(self, message: EmailMessage) -> None:
        await self.outbox.keep(message)
        # To and subject only: the body and its links carry tokens.
        log.info(
            "mail_kept_in_dev_outbox",
            to=message.to,
            subject=message.subject,
            hint="open /api/dev/outbox",
        )


def build_mailer(settings: Settings, store: Store) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings)
    if settings.env is Environment.PRODUCTION:
        # Mail is still kept, but /api/dev/outbox only answers in dev: nobody will read it.
        log.warning(
            "smtp_not_configured",
            hint="set POSTWISE_SMTP_HOST; verification and reset mail is not delivered",
        )
    return OutboxMailer(store)
