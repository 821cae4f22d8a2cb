"""The demo mailbox: a realistic, deterministic mailbox for trying Postwise without real mail.

About 150 messages over the 60 days before the mailbox was created: conversations with
replies, newsletters with tracking pixels, code-review and calendar notifications, receipts
with PDFs, an inline image. The text is the same on every run (a seeded `random.Random`) and
the dates count back from the demo mailbox's `created_at`, so generating again yields the same
bytes and the importer's duplicate check makes `postwise demo` idempotent (and lets an
interrupted run finish). Every address is on example.com/.org/.net. Stored through the
importer, hence `store_batch`, like any other mail.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from collections.abc import Generator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.accounts.models import MailAccount
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit, build_auth_kit
from postwise.auth.models import EventType
from postwise.auth.passwords import PasswordHasher, password_strength
from postwise.auth.sessions import revoke_user_sessions
from postwise.config import Settings
from postwise.db import utcnow
from postwise.imports.demo_content import (
    CI_FAILURES,
    DAY_NAMES,
    FILES,
    INVITES,
    JUNK,
    MONTHS,
    NEWS_ITEMS,
    NEWSLETTERS,
    PULL_REQUESTS,
    RECEIPTS,
    REVIEW_COMMENTS,
    SENT_ALONE,
    SINGLES,
    THREADS,
    P,
    Person,
    parse_threads,
    pdf,
    png,
)
from postwise.imports.importer import (
    ImportProgress,
    ProgressCallback,
    ensure_local_account,
    import_messages,
)
from postwise.imports.readers import INBOX, SourceMessage, TargetFolder, source_message
from postwise.kit.emails import normalise_email
from postwise.mail.blobs import BlobStore
from postwise.store import Store, create_store
from postwise.users.models import User

DEMO_USER_EMAIL = "demo@postwise.local"
DEMO_USER_NAME = "Demo User"
DEMO_MAILBOX_EMAIL = "demo.user@example.com"
DEMO_MAILBOX_NAME = "Demo mailbox"
DEMO_SEED = 20240601
DEMO_DAYS = 60

INBOX_FOLDER = TargetFolder(INBOX, "inbox")
SENT = TargetFolder("Sent", "sent")
ARCHIVE = TargetFolder("Archive", "archive")
TRASH = TargetFolder("Trash", "trash")

ME = Person(DEMO_USER_NAME, DEMO_MAILBOX_EMAIL, 1)


def _human(moment: datetime) -> str:
    """Locale-free "Tue, 4 Jun 2024 at 10:12" (strftime names follow the process locale)."""
    return (
        f"{DAY_NAMES[moment.weekday()]}, {moment.day} {MONTHS[moment.month - 1]} "
        f"{moment.year} at {moment:%H:%M}"
    )


def _zone(person: Person) -> timezone:
    return timezone(timedelta(hours=person.utc_offset))


@dataclass
class _Mail:
    message: EmailMessage
    folder: TargetFolder
    when: datetime
    flags: tuple[str, ...]


@dataclass
class DemoMailbox:
    """Builds the mail; one `random.Random` drawn in a fixed order keeps every run identical."""

    anchor: datetime
    # Not for security: a fixed seed is the point (the same mailbox on every run).
    rng: random.Random = field(default_factory=lambda: random.Random(DEMO_SEED))  # noqa: S311
    mails: list[_Mail] = field(default_factory=list)

    def recent(self, low: float, high: float) -> float:
        """Days ago, more often recent than old: a mailbox fills faster than it ages."""
        return low + (high - low) * math.pow(self.rng.random(), 1.6)

    def ago(self, days: float) -> datetime:
        return self.anchor.replace(microsecond=0) - timedelta(seconds=int(days * 86400))

    def compose(
        self,
        sender: Person,
        to: list[Person],
        subject: str,
        when: datetime,
        text: str,
        *,
        cc: list[Person] | None = None,
        html: str | None = None,
        msgid: str | None = None,
        parent: EmailMessage | None = None,
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender.address
        message["To"] = ", ".join(person.address for person in to)
        if cc:
            message["Cc"] = ", ".join(person.address for person in cc)
        message["Subject"] = subject
        message["Date"] = format_datetime(when.astimezone(_zone(sender)))
        domain = sender.email.rpartition("@")[2]
        message["Message-ID"] = msgid or f"<{self.rng.getrandbits(64):016x}@{domain}>"
        if parent is not None:
            references = [*str(parent.get("References", "")).split(), str(parent["Message-ID"])]
            message["In-Reply-To"] = str(parent["Message-ID"])
            message["References"] = " ".join(references)
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def file(
        self,
        message: EmailMessage,
        folder: TargetFolder,
        when: datetime,
        *,
        unread: float | None = None,
        seen: bool | None = None,
        starred: bool | None = None,
        answered: bool = False,
    ) -> None:
        age = (self.anchor - when).total_seconds() / 86400
        if seen is None:
            chance = (
                unread if unread is not None else 0.75 if age < 3 else 0.4 if age < 10 else 0.05
            )
            seen = self.rng.random() >= chance
        starred = self.rng.random() < 0.06 if starred is None else starred
        flags = [
            flag
            for flag, on in (("\\Seen", seen), ("\\Flagged", starred), ("\\Answered", answered))
            if on
        ]
        self.mails.append(_Mail(message, folder, when, tuple(flags)))

    # --- kinds of mail ---------------------------------------------------------------------------

    def threads(self) -> None:
        for subject, keys, script in parse_threads(THREADS):
            days = [self.recent(1.0, DEMO_DAYS - 3)]
            for _ in script[1:]:
                days.append(max(0.02, days[-1] - self.rng.uniform(0.05, 1.5)))
            archived = days[-1] > 30
            people = [P[key] for key in keys]
            parent: tuple[EmailMessage, Person, datetime, str] | None = None
            for n, (speaker, said) in enumerate(script):
                sender = ME if speaker == "me" else P[speaker]
                when = self.ago(days[n])
                first = people[0] if sender is ME else ME
                to = [parent[1] if parent and parent[1] is not sender else first]
                cc = [p for p in [ME, *people] if p is not sender and p not in to]
                text = f"{said}\n\n{sender.first}"
                if parent is not None:
                    quoted = "\n".join(f"> {line}".rstrip() for line in parent[3].splitlines())
                    text += f"\n\nOn {_human(parent[2].astimezone(_zone(parent[1])))}, "
                    text += f"{parent[1].name} wrote:\n{quoted}"
                title = subject if n == 0 else f"Re: {subject}"
                message = self.compose(
                    sender, to, title, when, text, cc=cc, parent=parent[0] if parent else None
                )
                mine = sender is ME
                replied = n + 1 < len(script) and script[n + 1][0] == "me"
                folder = SENT if mine else ARCHIVE if archived else INBOX_FOLDER
                self.file(message, folder, when, seen=True if mine else None, answered=replied)
                parent = (message, sender, when, text)

    def newsletters(self) -> None:
        for sender, list_id, pattern, headlines in NEWSLETTERS:
            domain = sender.email.rpartition("@")[2]
            offset = self.rng.uniform(0.2, 4.0)
            for n, headline in enumerate(headlines):
                days = offset + n * 9.5
                items = self.rng.sample(NEWS_ITEMS, 3)
                pixel = f"https://track.{domain}/open/{self.rng.getrandbits(48):012x}.gif"
                links = "".join(
                    f'<li><a href="https://{domain}/r/{n}/{i}">{item}</a></li>'
                    for i, item in enumerate(items)
                )
                html = (
                    f'<html><body style="font-family:Arial,sans-serif">'
                    f'<img src="https://img.{domain}/banner-{n}.png" width="600" alt="">'
                    f"<h1>{headline}</h1><p>In this issue: {headline}, and more.</p>"
                    f'<ul>{links}</ul><p style="font-size:12px">You subscribed at {domain}. '
                    f'<a href="https://{domain}/unsubscribe?u=demo">Unsubscribe</a></p>'
                    f'<img src="{pixel}" width="1" height="1" alt="" style="display:none">'
                    "</body></html>"
                )
                text = f"{headline}\n\nIn this issue: {headline}, and more.\n\n" + "\n".join(
                    f"* {item}: https://{domain}/r/{n}/{i}" for i, item in enumerate(items)
                )
                headers = {
                    "List-Id": f"{sender.name} <{list_id}>",
                    "List-Unsubscribe": f"<mailto:leave@{domain}>, <https://{domain}/unsubscribe>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    "Precedence": "bulk",
                }
                when = self.ago(days)
                subject = pattern.format(n=126 - n, h=headline)
                message = self.compose(
                    sender, [ME], subject, when, text, html=html, headers=headers
                )
                folder = ARCHIVE if days > 30 and self.rng.random() < 0.6 else INBOX_FOLDER
                self.file(message, folder, when, unread=0.6 if days < 14 else 0.2, starred=False)

    def code_reviews(self) -> None:
        for repo, number, title, author in PULL_REQUESTS:
            url = f"https://codehub.example.net/{repo}/pull/{number}"
            subject = f"[{repo}] {title} (PR #{number})"
            headers = {
                "List-Id": f"{repo} <{repo.replace('/', '.')}.codehub.example.net>",
                "List-Unsubscribe": f"<{url}/unsubscribe>",
            }
            days = self.recent(0.3, 50)
            reviewers = [k for k in ("tom", "lena", "priya", "chloe") if k != author]
            root: EmailMessage | None = None
            for k in range(self.rng.randint(2, 4)):
                actor = P[author] if k == 0 else P[self.rng.choice(reviewers)]
                said = (
                    f"{actor.name} requested your review on {repo}#{number}: {title}.",
                    f"{actor.name} commented:\n\n> {self.rng.choice(REVIEW_COMMENTS)}",
                    f"{actor.name} approved these changes.",
                    f"Merged #{number} into main.",
                )[k]
                text = f"{said}\n\n--\nReply to this email or view it on Codehub:\n{url}"
                when = self.ago(max(0.01, days - k * self.rng.uniform(0.1, 1.0)))
                sender = Person(actor.name, "notifications@codehub.example.net")
                reason = {"X-Codehub-Reason": "review_requested" if k == 0 else "subscribed"}
                message = self.compose(
                    sender,
                    [ME],
                    subject if k == 0 else f"Re: {subject}",
                    when,
                    text,
                    msgid=f"<{repo}/pull/{number}/{k}@codehub.example.net>",
                    parent=root,
                    headers={**headers, **reason},
                )
                root = root or message
                self.file(message, ARCHIVE if days > 25 else INBOX_FOLDER, when, starred=False)
        for repo, branch, job in CI_FAILURES:
            days, commit = self.recent(0.2, 40), f"{self.rng.getrandbits(28):07x}"
            when, url = self.ago(days), f"https://codehub.example.net/{repo}/actions"
            text = f"Run failed: CI on {branch} ({commit})\n\nFailing job: {job}\n\n{url}"
            sender = Person("Codehub Actions", "notifications@codehub.example.net")
            subject = f"[{repo}] Run failed: CI - {branch} ({commit})"
            message = self.compose(sender, [ME], subject, when, text)
            self.file(message, ARCHIVE if days > 25 else INBOX_FOLDER, when, starred=False)

    def invites(self) -> None:
        for title, key, minutes in INVITES:
            organizer = P[key]
            days = self.recent(1.0, 45.0)
            when = self.ago(days)
            local = (when + timedelta(days=self.rng.randint(2, 6))).astimezone(_zone(organizer))
            start = local.replace(hour=self.rng.choice((9, 10, 14, 15)), minute=0, second=0)
            end = start + timedelta(minutes=minutes)
            stamp = "%Y%m%dT%H%M%SZ"
            uid = f"{self.rng.getrandbits(64):016x}@calendar.example.com"
            ics = "\r\n".join((
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Calendar//EN",
                "METHOD:REQUEST", "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{when.strftime(stamp)}",
                f"DTSTART:{start.astimezone(UTC).strftime(stamp)}",
                f"DTEND:{end.astimezone(UTC).strftime(stamp)}", f"SUMMARY:{title}",
                f"ORGANIZER;CN={organizer.name}:mailto:{organizer.email}",
                f"ATTENDEE;CN={ME.name};RSVP=TRUE:mailto:{ME.email}", "END:VEVENT", "END:VCALENDAR",
            )) + "\r\n"  # fmt: skip
            text = (
                f"{organizer.name} has invited you to: {title}\n\nWhen: {_human(start)} "
                f"({minutes} minutes)\nJoin: https://meet.example.com/{self.rng.getrandbits(32):08x}"
                "\n\nReply to the invitation in your calendar app."
            )
            sender = Person(organizer.name, "calendar-notification@calendar.example.com")
            message = self.compose(
                sender, [ME], f"Invitation: {title} @ {_human(start)}", when, text
            )
            message.add_attachment(
                ics, subtype="calendar", filename="invite.ics", params={"method": "REQUEST"}
            )
            self.file(message, ARCHIVE if days > 30 else INBOX_FOLDER, when)

    def receipts(self) -> None:
        for sender, subject, items, with_pdf in RECEIPTS:
            days = self.recent(0.5, DEMO_DAYS - 2)
            when = self.ago(days)
            order = f"{sender.name[:2].upper()}-{self.rng.randint(10000, 99999)}"
            total = sum(price for _, price in items)
            lines = [f"{name:<34}{price:>9.2f}" for name, price in items]
            lines.append(f"{'Total (EUR)':<34}{total:>9.2f}")
            text = "Hello Demo,\n\nthank you for your purchase. Your receipt:\n\n"
            text += f"Order {order}\n" + "\n".join(lines) + f"\n\n{sender.name}"
            rows = "".join(f"<tr><td>{n}</td><td>{p:.2f}</td></tr>" for n, p in items)
            html = (
                f"<html><body><h2>{sender.name}</h2><p>Order {order}</p><table>{rows}"
                f"<tr><th>Total</th><th>{total:.2f} EUR</th></tr></table></body></html>"
            )
            message = self.compose(sender, [ME], subject.format(order=order), when, text, html=html)
            if with_pdf:
                document = pdf([sender.name, f"Order {order}", *lines])
                message.add_attachment(
                    document, maintype="application", subtype="pdf", filename=f"{order}.pdf"
                )
            self.file(message, ARCHIVE if days > 30 else INBOX_FOLDER, when)

    def attachments(self) -> None:
        sofia, days = P["sofia"], self.rng.uniform(2.0, 9.0)
        when = self.ago(days)
        html = (
            "<html><body><p>What a day! The lake was freezing but worth it.</p>"
            '<p><img src="cid:ridge-lake@example.org" alt="The lake" width="320"></p>'
            "<p>Sofia</p></body></html>"
        )
        text = "What a day! The lake was freezing but worth it.\n\nSofia"
        message = self.compose(
            sofia, [ME], "Photos from the hike", when, text, cc=[P["kenji"]], html=html
        )
        body = message.get_body(("html",))
        assert isinstance(body, EmailMessage)
        body.add_related(png(48, 32, 7), "image", "png", cid="<ridge-lake@example.org>")
        message.add_attachment(png(64, 48, 99), "image", "png", filename="summit.png")
        self.file(message, INBOX_FOLDER, when, starred=True)
        files = (
            *FILES,
            ("priya", "Slides for Thursday's review", "roadmap-q3.pdf", "application/pdf",
             pdf(["Q3 roadmap", "1. Billing migration", "2. Search rewrite"])),
            ("helen", "Tenancy agreement ready to sign", "tenancy-agreement.pdf",
             "application/pdf", pdf(["Tenancy agreement", "14 Elm Street"])),
        )  # fmt: skip
        for key, subject, filename, mime, data in files:
            days = self.recent(1.0, 40.0)
            when = self.ago(days)
            text = f"Hi Demo,\n\nattached: {filename}. Let me know what you think."
            text += f"\n\n{P[key].first}"
            message = self.compose(P[key], [ME], subject, when, text)
            maintype, _, subtype = mime.partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
            self.file(message, ARCHIVE if days > 30 else INBOX_FOLDER, when)

    def singles(self) -> None:
        for mails, folder in ((SINGLES, INBOX_FOLDER), (JUNK, TRASH)):
            for sender, subject, text in mails:
                days = self.recent(0.1, 50.0)
                when = self.ago(days)
                message = self.compose(sender, [ME], subject, when, text)
                spot = ARCHIVE if folder is INBOX_FOLDER and days > 30 else folder
                self.file(message, spot, when, seen=True if folder is TRASH else None)
        for key, subject, text in SENT_ALONE:
            when = self.ago(self.rng.uniform(1.0, 30.0))
            message = self.compose(ME, [P[key]], subject, when, f"{text}\n\n{ME.first}")
            self.file(message, SENT, when, seen=True, starred=False)

    def build(self) -> list[SourceMessage]:
        for kind in (self.threads, self.newsletters, self.code_reviews, self.invites,
                     self.receipts, self.attachments, self.singles):  # fmt: skip
            kind()
        # Oldest first, as a mailbox fills: local uids then follow the dates.
        ordered = sorted(self.mails, key=lambda mail: mail.when)
        built, position = [], 0
        for index, mail in enumerate(ordered):
            for n, part in enumerate(mail.message.walk()):
                if part.is_multipart():
                    # The email package draws boundaries at random: fixed ones keep the bytes
                    # (and so the duplicate check) identical from one run to the next.
                    part.set_boundary(f"=_demo_{index:03d}_{n}")
            raw = mail.message.as_bytes(policy=SMTP)
            position += len(raw)
            built.append(
                source_message(
                    raw,
                    folder=mail.folder,
                    flags=mail.flags,
                    internal_date=mail.when,
                    position=position,
                )
            )
        return built


def demo_messages(anchor: datetime) -> list[SourceMessage]:
    return DemoMailbox(anchor).build()


@dataclass
class DemoSource:
    items: list[SourceMessage]
    kind: str = "demo"
    total_bytes: int = 0
    read_errors: int = 0

    def __post_init__(self) -> None:
        self.total_bytes = self.items[-1].position if self.items else 0

    def messages(self) -> Generator[SourceMessage, None, None]:
        yield from self.items


# --- the demo user and mailbox -------------------------------------------------------------------


class DemoError(Exception):
    """The demo cannot be set up as asked (a weak --password, an invalid --email)."""


@dataclass(frozen=True)
class DemoResult:
    user_id: uuid.UUID
    user_email: str
    user_created: bool
    # Set when this run chose or changed the password: shown once, never stored in clear.
    password: str | None
    account_id: uuid.UUID
    progress: ImportProgress
    # Sessions of an existing demo user signed out because its password changed.
    sessions_revoked: int = 0


async def ensure_demo_user(
    db: AsyncSession,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str | None,
    new_password: bool = False,
) -> tuple[User, str | None, bool]:
    """The demo user (verified, never an admin), created with a random password when missing.

    An existing one keeps its password unless `password` is given or `new_password` asks for
    a new random one; the password comes back only when it was set now. The caller commits."""
    try:
        email = normalise_email(email)
    except ValueError as error:
        raise DemoError(f"not a valid email address: {error}") from error
    user = await db.scalar(select(User).where(User.email == email))
    if user is not None and password is not None:
        # The same password again (POSTWISE_DEMO_PASSWORD on every run) changes nothing, so
        # it does not sign the demo user out each time.
        if (await hasher.verify(user.password_hash, password)).ok:
            return user, None, False
    elif user is not None and not new_password:
        return user, None, False
    if password is not None:
        strength = password_strength(password, [email, DEMO_USER_NAME])
        if not strength.acceptable:
            raise DemoError(f"the password is too easy to guess. {strength.warning}".strip())
    chosen = password or secrets.token_urlsafe(12)
    password_hash = await hasher.hash(chosen)
    created = user is None
    if user is None:
        user = User(email=email, name=DEMO_USER_NAME, password_hash=password_hash, is_demo=True)
        user.email_verified_at = utcnow()
        db.add(user)
        await db.flush()
    else:
        user.password_hash = password_hash
        user.password_changed_at = utcnow()
        # A new password is also the way out of a lockout from failed sign-ins.
        user.failed_logins = 0
        user.locked_until = None
    return user, chosen, created


async def _sign_out_everywhere(db: AsyncSession, kit: AuthKit, user: User) -> int:
    """After a password change from the command line: like a reset, every session ends."""
    count = await revoke_user_sessions(db, kit, user_id=user.id, reason="password_reset")
    record_event(db, EventType.PASSWORD_RESET, user_id=user.id, by="postwise demo", sessions=count)
    return count


async def demo_account(db: AsyncSession, *, user_id: uuid.UUID, reset: bool) -> MailAccount:
    """The user's demo mailbox; `reset` drops it first (its mail cascades) for fresh dates."""
    found = await db.scalar(
        select(MailAccount).where(MailAccount.user_id == user_id, MailAccount.is_demo.is_(True))
    )
    if found is not None and reset:
        await db.execute(delete(MailAccount).where(MailAccount.id == found.id))
        db.expunge(found)
        found = None
    if found is not None:
        return found
    account = await ensure_local_account(
        db,
        user_id=user_id,
        email=DEMO_MAILBOX_EMAIL,
        display_name=DEMO_MAILBOX_NAME,
        is_demo=True,
    )
    account.is_demo = True  # an unmarked local mailbox at that address becomes the demo one
    return account


async def create_demo(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    blobs: BlobStore,
    executor: Executor | None,
    email: str = DEMO_USER_EMAIL,
    password: str | None = None,
    reset_password: bool = False,
    reset: bool = False,
    on_progress: ProgressCallback | None = None,
    store: Store | None = None,
) -> DemoResult:
    """Set up (or complete) the demo. Owns its transactions like the import loop it uses.

    `reset_password` gives an existing demo user a new random password. Whenever an existing
    user's password changes, its sessions are revoked in the database; servers sharing `store`
    (Redis) drop them at once, others within the half minute they cache a session's state."""
    kit = build_auth_kit(settings, store or create_store(None))
    try:
        async with sessionmaker() as db:
            user, chosen, created = await ensure_demo_user(
                db, kit.hasher, email=email, password=password, new_password=reset_password
            )
            revoked = 0
            if chosen is not None and not created:
                revoked = await _sign_out_everywhere(db, kit, user)
            account = await demo_account(db, user_id=user.id, reset=reset)
            await db.commit()
    finally:
        kit.hasher.close()
    source = DemoSource(demo_messages(account.created_at))
    progress = await import_messages(
        sessionmaker,
        account_id=account.id,
        source=source,
        blobs=blobs,
        executor=executor,
        on_progress=on_progress,
    )
    return DemoResult(
        user_id=user.id,
        user_email=user.email,
        user_created=created,
        password=chosen,
        account_id=account.id,
        progress=progress,
        sessions_revoked=revoked,
    )
