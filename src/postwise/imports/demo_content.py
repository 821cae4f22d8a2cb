"""Demo mailbox content: the people, conversation scripts and mail tables, PNG and PDF builders."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from email.utils import formataddr


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
