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
import struct
import uuid
import zlib
from collections.abc import Generator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.accounts.models import MailAccount
from postwise.auth.passwords import PasswordHasher, password_strength
from postwise.config import Settings
from postwise.db import utcnow
from postwise.mail.blobs import BlobStore
from postwise.sync.importers import (
    INBOX,
    ImportProgress,
    ProgressCallback,
    SourceMessage,
    TargetFolder,
    ensure_local_account,
    import_messages,
    source_message,
)
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


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    utc_offset: int = 0

    @property
    def address(self) -> str:
        return formataddr((self.name, self.email))

    @property
    def first(self) -> str:
        return self.name.split()[0]


ME = Person(DEMO_USER_NAME, DEMO_MAILBOX_EMAIL, 1)
P = {
    "priya": Person("Priya Raman", "priya.raman@example.com", 1),
    "tom": Person("Tom Becker", "tom.becker@example.com", 1),
    "lena": Person("Lena Fischer", "lena.fischer@example.com", 2),
    "chloe": Person("Chloe Martin", "chloe.martin@example.com", 1),
    "omar": Person("Omar Haddad", "omar.haddad@example.com", 0),
    "marcus": Person("Marcus Hill", "marcus@example.org", 0),
    "sofia": Person("Sofia Alvarez", "sofia.alvarez@example.org", 2),
    "kenji": Person("Kenji Watanabe", "kenji@example.org", 9),
    "ana": Person("Ana Costa", "ana.costa@example.org", 0),
    "jamie": Person("Jamie Carter", "jamie.carter@example.org", 0),
    "grace": Person("Grace Okafor", "grace.okafor@northwind.example.net", 0),
    "daniel": Person("Daniel Novak", "daniel@novak-studio.example.net", 1),
    "helen": Person("Helen Brooks", "helen@lettings.example.net", 0),
    "ravi": Person("Ravi Menon", "ravi@devshop.example.net", 5),
}

# Conversations: "= subject | participants", then "speaker: text"; indented lines continue the
# text on a new line ("." alone is a blank line). "me" is the demo user, whose mail goes to Sent.
THREADS = """
= Q3 roadmap review | priya tom
priya: Hi both,
  .
  I've put the Q3 roadmap draft in the shared folder. Could you look at the
  sequencing of the search rewrite and the billing migration before Thursday?
  I'm not sure we can do both in one quarter.
me: Thanks Priya. The billing migration has to go first: the old provider's
  contract ends in September. Search can start in parallel if Tom's team takes
  the indexing work.
tom: Agreed on billing first. We can pick up indexing from mid-July, but we'd
  need Lena for two weeks to help with the schema changes.
priya: OK, let's lock that in. I'll update the draft and walk the leadership
  team through it on Thursday.
me: Sounds good. I'll prepare the dependency chart for the meeting.
= Lunch on Friday? | marcus
marcus: Hey! Are you free for lunch on Friday? There's a new ramen place near
  the station I've been wanting to try.
me: Yes, count me in! 12:30 works for me. Shall we meet at the station?
marcus: Perfect, 12:30 at the north entrance. I'll book a table for two.
= Flaky integration test in CI | tom lena
tom: The checkout integration test failed three times today on main, always
  with a timeout waiting for the payment webhook. Has anyone changed the
  fixtures recently?
lena: I bumped the webhook retry delay last week, that might be it. The test
  waits 5 seconds, the first retry now comes after 8.
me: That explains it. Could the test wait for the event instead of sleeping a
  fixed time? Fixed timeouts will keep biting us.
lena: Good idea. I'll make it poll for the webhook record with a 30 second
  ceiling and open a PR today.
= Invoice 2024-117 for the illustration work | daniel
daniel: Hello,
  .
  here are the details for invoice 2024-117: 12 illustrations for the
  onboarding flow, as agreed, EUR 2,400. Payment within 30 days would be great.
me: Thanks Daniel, the illustrations look fantastic. I've passed the invoice
  to our finance team; payment should reach you by the end of the month.
daniel: Wonderful, thank you! Let me know if you need variations for the
  mobile layouts.
= Hike on Saturday? | sofia kenji
sofia: The weather looks great for Saturday! Who's up for the ridge trail?
  It's about 14 km with a lovely lake halfway.
kenji: I'm in. Shall we take the 8:10 train so we're on the trail before it
  gets hot?
me: Count me in too. The 8:10 works. I can bring sandwiches for everyone.
sofia: Amazing. I'll bring fruit and the first aid kit. Meet at platform 4?
kenji: Platform 4 it is. Don't forget sunscreen, the ridge has no shade at all.
me: See you both there. I've bought a group ticket, so just show up.
= Contract renewal: Northwind Analytics | grace priya
grace: Dear Demo,
  .
  your Northwind Analytics subscription renews on the 30th. We can offer the
  Team plan at the current price for a 12-month commitment. Shall I send the
  updated order form?
me: Hi Grace, thanks for the heads-up. I'm adding Priya, who signs off
  renewals. Could you also quote 25 seats instead of 20?
priya: Thanks both. 25 seats on a 12-month term works for us if the price per
  seat stays the same. Please send the order form to me.
grace: Certainly, Priya. The order form for 25 seats at the current per-seat
  price is on its way.
= Onboarding plan for Chloe | priya chloe
priya: Chloe starts on Monday. Demo, could you be her onboarding buddy for the
  first two weeks? I've drafted a plan with the main sessions.
me: Happy to. Welcome aboard, Chloe! I'll set up an intro call on Monday
  morning and walk you through the codebase in the afternoon.
chloe: Thank you both, I'm really looking forward to it. Is there anything I
  should read before Monday?
= Viewing at 14 Elm Street on Thursday | helen
helen: Hello,
  .
  the flat at 14 Elm Street can be viewed this Thursday at 18:00 or Friday at
  17:30. Which suits you better?
me: Thursday at 18:00 would be perfect. Is the flat available from the first
  of next month?
helen: Thursday at 18:00 is booked, and yes, it's available from the 1st.
  Please bring photo ID to the viewing.
= Feedback on your conference talk proposal | kenji
kenji: I read your proposal for the autumn conference. The topic is strong,
  but the abstract spends too long on background. I'd open with the outage
  story and the numbers.
me: That's really helpful, thanks. Would you cut the section on alternatives?
kenji: Keep one sentence on them, no more. Reviewers want to know what they'll
  learn in the first three lines.
me: Makes sense. The abstract is down to 140 words now. Submitting tonight!
= Database migration window | lena tom
lena: Proposal: we run the database migration on Sunday from 06:00 to 08:00
  UTC, when traffic is lowest. The dry run on staging took 41 minutes.
tom: Fine by me. Do we have a rollback plan if replication lag goes above a
  minute?
lena: Yes: the old primary stays read-only for 24 hours and we can switch back
  with one DNS change. The runbook is in the wiki.
me: Approved from my side. Please post a notice on the status page by Thursday.
tom: The status page notice is scheduled. I'll be on call with Lena on Sunday.
= Birthday present for Mum | jamie
jamie: Mum's birthday is in two weeks! Shall we go halves on something nice?
  I was thinking of a weekend at that spa she keeps mentioning.
me: Love the idea. Do you know which weekend she's free? I'll call the spa.
jamie: She's free the weekend after her birthday. Dad says he'll drive her.
me: Booked! Two nights, breakfast included. I'll send you the details and your
  half of the cost.
= Customer escalation: Acme Corp export timeouts | omar priya
omar: Acme Corp reports that their nightly export times out since Tuesday,
  which blocks their finance reporting. They want an update by end of day.
me: Thanks Omar. Exports over 1 GB hit the new gateway timeout. We can raise
  it for their account as a stopgap while we move exports to background jobs.
priya: Please do the stopgap today and give them a date for the proper fix.
  Omar, can you set up a call with their admin tomorrow?
omar: Call booked for tomorrow at 10:00. I've told them the timeout change
  goes live tonight.
= Book club: next pick | ana sofia
ana: Our next meeting is on the 20th. Suggestions so far: The Overstory,
  Piranesi and Klara and the Sun. Votes by Sunday please!
sofia: Piranesi for me, it's short and everyone says it's wonderful.
me: I'll vote for Piranesi too. Happy to host this time, I have room for eight.
= Question about API rate limits | ravi
ravi: Hi, we're integrating with your API and keep getting 429 responses when
  syncing about 5,000 records. Is there a bulk endpoint, or a way to raise our
  limit?
me: Hi Ravi, the bulk endpoint /v2/records/batch takes up to 500 records per
  call, which keeps you well below the limit. Let me know if that doesn't help.
= Team offsite logistics | chloe priya
chloe: I've collected the offsite preferences: 9 of 11 prefer the lakeside
  venue, and most would like to travel on Wednesday morning.
priya: Great work, Chloe. Let's book the lakeside venue from Wednesday to
  Friday. The budget is up to 350 per person.
me: I can organise the Thursday workshop sessions. Chloe, could you handle the
  travel bookings?
chloe: Yes, I'll book the trains today and send everyone their tickets.
"""

# Mail data below is laid out by hand: one record per line reads better than the formatter's.
# fmt: off
NEWSLETTERS: tuple[tuple[Person, str, str, tuple[str, ...]], ...] = (
    (Person("The Weekly Byte", "digest@weeklybyte.example.net"),
     "weekly.weeklybyte.example.net", "The Weekly Byte #{n}: {h}",
     ("Postgres 17 lands", "Why your CI is slow", "The quiet return of RSS",
      "Rust in the kernel, a year on", "Browsers drop third-party cookies",
      "A field guide to flaky tests", "SQLite in production, revisited")),
    (Person("Trailhead Outfitters", "offers@trailhead.example.com"),
     "offers.trailhead.example.com", "{h}",
     ("Summer sale: 30% off tents", "New in: ultralight rain jackets",
      "Your weekend packing list", "Members save 15% this week",
      "Last chance: boots clearance", "Gear up for the trail season", "Spring collection")),
    (Person("Riverside Library", "events@library.example.org"),
     "events.library.example.org", "This week at Riverside Library: {h}",
     ("author talk with M. Ellis", "the summer reading club", "repair café on Saturday",
      "film night: classic noir", "a local history walk", "board game evening",
      "poetry open mic")),
    (Person("Fieldnotes by Maya Lin", "maya@fieldnotes.example.net"),
     "fieldnotes.example.net", "{h}",
     ("Notes on slow productivity", "What I learned from 100 interviews",
      "The case for boring technology", "Writing in public", "On saying no",
      "Small tools, big leverage", "Why I still write by hand")),
)
NEWS_ITEMS = ("Reader mail", "This week in numbers", "From the archive", "Editor's pick",
              "Events near you", "One more thing")
# (repository, number, title, author); reviewers are the other colleagues.
PULL_REQUESTS = (
    ("acme/widgets", 412, "Fix race in cache warmup", "tom"),
    ("acme/widgets", 418, "Add a retry budget to the webhook client", "lena"),
    ("acme/widgets", 421, "Stream rows in the export job", "omar"),
    ("acme/docs", 77, "Document the bulk records endpoint", "chloe"),
    ("acme/infra", 63, "Move the staging database to the new subnet", "lena"),
    ("acme/widgets", 430, "Poll for webhook records instead of sleeping in tests", "tom"),
    ("acme/widgets", 433, "Raise the export gateway timeout for large accounts", "omar"),
)
CI_FAILURES = (("acme/widgets", "main", "test (3.11)"), ("acme/widgets", "fix-cache-race", "lint"),
               ("acme/infra", "staging-subnet", "plan"))
REVIEW_COMMENTS = ("Could we add a test for the timeout path?",
                   "Nice catch, this has bitten us before.",
                   "Nit: the log line could include the account id.",
                   "Looks good to me once CI is green.")
INVITES = (("Quarterly planning", "priya", 60), ("1:1 Demo / Priya", "priya", 30),
           ("Migration go/no-go", "lena", 30), ("Offsite kickoff", "chloe", 90),
           ("Coffee catch-up", "marcus", 45))
# (sender, subject, items with prices, whether a PDF is attached)
RECEIPTS: tuple[tuple[Person, str, tuple[tuple[str, float], ...], bool], ...] = (
    (Person("Northwind Coffee", "receipts@northwind-coffee.example.com"),
     "Your receipt from Northwind Coffee", (("Flat white", 3.6), ("Almond croissant", 3.2)), False),
    (Person("Bookshelf", "orders@bookshelf.example.com"), "Order {order} confirmed",
     (("Piranesi (paperback)", 9.99), ("The Overstory (paperback)", 12.5)), False),
    (Person("Bookshelf", "shipping@bookshelf.example.com"), "Your order {order} has shipped",
     (("Piranesi (paperback)", 9.99),), False),
    (Person("Cloudnest Hosting", "billing@cloudnest.example.net"), "Invoice {order}",
     (("Cloud server S2, monthly", 24.0), ("Backups", 4.0)), True),
    (Person("Cloudnest Hosting", "billing@cloudnest.example.net"), "Invoice {order}",
     (("Cloud server S2, monthly", 24.0), ("Backups", 4.0)), True),
    (Person("Metro Rail", "tickets@metrorail.example.org"), "Your e-ticket: Central to Harbourside",
     (("Return ticket, standard class", 38.4),), True),
    (Person("Greenleaf Energy", "billing@greenleaf.example.net"), "Your energy bill is ready",
     (("Electricity, 312 kWh", 81.12), ("Standing charge", 14.7)), True),
    (Person("Streamly", "billing@streamly.example.com"), "Payment received, thank you",
     (("Streamly Standard, monthly", 10.99),), False),
    (Person("City Parking", "noreply@parking.example.org"), "Parking receipt {order}",
     (("Central car park, 3 hours", 7.5),), True),
    (Person("Bookshelf", "orders@bookshelf.example.com"), "Order {order} delivered",
     (("The Overstory (paperback)", 12.5),), False),
)
SINGLES: tuple[tuple[Person, str, str], ...] = (
    (P["jamie"], "Dinner at Mum and Dad's on Sunday",
     "Mum asks if you're coming for dinner on Sunday. She's making lasagne. 18:00?"),
    (P["marcus"], "That article I mentioned", "Here's the piece on sourdough starters I told "
     "you about:\nhttps://www.example.org/articles/sourdough\n\nWorth ten minutes!"),
    (Person("Smile Dental", "reception@smiledental.example.org"), "Appointment reminder: "
     "Tuesday 09:40", "This is a reminder of your check-up on Tuesday at 09:40 with Dr Ahmed.\n"
     "Reply to this email if you need to reschedule."),
    (P["chloe"], "Thank you!", "Just wanted to say thanks for a great first week. The "
     "codebase walkthrough was super helpful."),
    (Person("Riverside Library", "loans@library.example.org"), "Your loans are due soon",
     "Piranesi and one other item are due back on Friday. You can renew them online twice."),
    (Person("Cloudnest Hosting", "security@cloudnest.example.net"), "New sign-in to your "
     "Cloudnest account", "We noticed a new sign-in to your account from Firefox on Linux "
     "in Lisbon, Portugal.\n\nIf this was you, ignore this email. If not, reset your "
     "password now: https://cloudnest.example.net/reset"),
    (Person("Streamly", "no-reply@streamly.example.com"), "Your password was changed",
     "The password for your Streamly account was changed. If you didn't do this, contact "
     "support right away."),
    (Person("Northwind Analytics", "no-reply@northwind.example.net"), "Confirm your email "
     "address", "Please confirm your address: https://app.northwind.example.net/confirm?t=demo"),
    (P["kenji"], "Slides from the meetup", "The slides from last night's meetup are up at "
     "https://slides.example.org/kenji/observability - the bit on sampling is for you!"),
    (Person("Parcel Point", "notify@parcelpoint.example.net"), "Your parcel is ready for "
     "collection", "Your parcel can be collected at Parcel Point, 3 Market Lane, until Friday.\n"
     "Collection code: 4471"),
)
# Deleted promotions and scams: the Trash folder's content.
JUNK: tuple[tuple[Person, str, str], ...] = (
    (Person("Prize Team", "winner@lucky-draw.example.net"), "You have been selected for an "
     "exclusive reward!!!", "Congratulations! Claim your reward within 24 hours."),
    (Person("MegaStore", "deals@megastore.example.com"), "Last chance: 70% off everything",
     "Our biggest sale ends at midnight. Shop now before it's gone."),
    (Person("Account Security", "security@account-verify.example.net"), "Action required: "
     "verify your account", "Your mailbox will be closed unless you verify it today."),
    (Person("Networkly", "invitations@networkly.example.com"), "Sam wants to connect with you",
     "Sam Rivera would like to join your professional network."),
    (Person("Photoly", "billing@photoly.example.com"), "Your free trial ends tomorrow",
     "Upgrade now to keep your 3 photo albums."),
    (Person("SaaSConf", "events@saasconf.example.org"), "Don't miss our summer webinar",
     "Join 2,000 founders for our free summer webinar on growth."),
)
# (colleague, subject, file name, content type, content)
FILES: tuple[tuple[str, str, str, str, bytes], ...] = (
    ("tom", "Budget draft for Q3", "budget-q3.csv", "text/csv",
     b"team,q2,q3\nplatform,120000,135000\nsearch,80000,95000\nbilling,60000,70000\n"),
    ("lena", "Runbook: database migration", "runbook.md", "text/markdown",
     b"# Migration runbook\n\n1. Freeze writes\n2. Promote replica\n3. Switch DNS\n"),
)
SENT_ALONE = (
    ("priya", "Out of office next Friday",
     "Hi Priya,\n\na heads-up that I'm off next Friday. Tom covers the release review."),
    ("marcus", "Concert tickets",
     "Got us two tickets for the jazz night on the 14th! Doors open at 19:30."),
)
# fmt: on
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_threads(text: str) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    threads: list[tuple[str, list[str], list[tuple[str, str]]]] = []
    for line in text.strip().splitlines():
        if line.startswith("= "):
            subject, _, people = line[2:].partition(" | ")
            threads.append((subject, people.split(), []))
        elif line.startswith("  "):
            speaker, said = threads[-1][2][-1]
            extra = "" if line.strip() == "." else line.strip()
            threads[-1][2][-1] = (speaker, f"{said}\n{extra}")
        else:
            speaker, _, said = line.partition(": ")
            threads[-1][2].append((speaker, said))
    return threads


def _human(moment: datetime) -> str:
    """Locale-free "Tue, 4 Jun 2024 at 10:12" (strftime names follow the process locale)."""
    return (
        f"{DAY_NAMES[moment.weekday()]}, {moment.day} {MONTHS[moment.month - 1]} "
        f"{moment.year} at {moment:%H:%M}"
    )


def _zone(person: Person) -> timezone:
    return timezone(timedelta(hours=person.utc_offset))


def png(width: int, height: int, seed: int) -> bytes:
    """A small gradient PNG (valid, deterministic) built with zlib alone."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in ((x * 9 + seed) % 256, y * 7 % 256, 160))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines`: enough for viewers, previews and attachment handling."""
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -18 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 760 Td {text} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


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
    """The demo cannot be set up as asked (a weak --password)."""


@dataclass(frozen=True)
class DemoResult:
    user_id: uuid.UUID
    user_email: str
    user_created: bool
    # Set when this run chose or changed the password: shown once, never stored in clear.
    password: str | None
    account_id: uuid.UUID
    progress: ImportProgress


async def ensure_demo_user(
    db: AsyncSession, hasher: PasswordHasher, *, email: str, password: str | None
) -> tuple[User, str | None, bool]:
    """The demo user (verified, never an admin), created with a random password when missing;
    an existing one keeps its password unless a new one is given. The caller commits."""
    email = email.strip().lower()
    user = await db.scalar(select(User).where(User.email == email))
    if user is not None and password is None:
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
    return user, chosen, created


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
    reset: bool = False,
    on_progress: ProgressCallback | None = None,
) -> DemoResult:
    """Set up (or complete) the demo. Owns its transactions like the import loop it uses."""
    hasher = PasswordHasher(settings)
    try:
        async with sessionmaker() as db:
            user, chosen, created = await ensure_demo_user(
                db, hasher, email=email, password=password
            )
            account = await demo_account(db, user_id=user.id, reset=reset)
            await db.commit()
    finally:
        hasher.close()
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
    )
