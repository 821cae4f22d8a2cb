"""A simulated user, seeded: a few dozen senders with hidden preferences, a stream of their mail
in time order, and what the user did with each message. The priority tests replay it, and so
can a benchmark (`simulate` + `replay`).

The preferences are the kinds Gmail's Priority Inbox paper describes: close colleagues the user
answers, a manager whose mail is always opened, teammates read when addressed directly and
skipped in Cc, newsletters mostly ignored (one read and archived, one read only on topics the
user cares about), tools whose notifications are opened for some subjects only, promotions
deleted unread, cold outreach from ever-new senders. Every choice is random around the hidden
preference, so no model can be right every time (the best possible agreement, `ceiling`, is
about 0.90).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from postwise.ai.mailview import MailView
from postwise.ai.priority import (
    FEEDBACK,
    PriorityModel,
    SenderFacts,
    after_action,
    features,
    threshold_for,
)
from postwise.ai.results import ActionItem, Category, Triage

USER = "me@example.org"
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
# Acting on a message in any of these ways means it mattered to the user.
IMPORTANT_ACTIONS = frozenset({"open", "reply", "star"})


@dataclass(frozen=True)
class Event:
    mail: MailView
    triage: Triage
    user_replied_in_thread: bool
    actions: tuple[str, ...]  # what the user did, in order; () = left unread
    p_important: float  # the hidden chance the user acts on it (for the ceiling)

    @property
    def important(self) -> bool:
        return any(action in IMPORTANT_ACTIONS for action in self.actions)


@dataclass
class Draft:
    """One message being made up: what the sender writes and how the user will take it."""

    subject: str
    body: str
    p_open: float
    p_reply: float = 0.0
    p_archive_read: float = 0.0
    skip: tuple[tuple[str, float], ...] = (("", 1.0),)  # how unread mail goes ("" = left)
    to: tuple[str, ...] = (USER,)
    cc: tuple[str, ...] = ()
    due_in_days: int | None = None


@dataclass(frozen=True)
class Persona:
    address: str
    name: str
    category: Category
    weight: float  # how often they write, relative to the others
    write: Writer
    list_id: str | None = None
    unsubscribe: bool = False
    auto: bool = False


@dataclass
class World:
    rng: random.Random
    # (sender, topic) -> whether the user has replied on it
    topics: dict[tuple[str, str], bool] = field(default_factory=dict)
    new_senders: int = 0


# How a kind of sender makes up a message.
Writer = Callable[[random.Random, "Persona", World], Draft]


# --- what each kind of sender writes, and how the user takes it -------------------------------

WORK_TOPICS = (
    "Q3 budget",
    "launch plan",
    "design review",
    "hiring loop",
    "vendor contract",
    "roadmap draft",
    "customer escalation",
    "offsite agenda",
    "API migration",
    "security audit",
)
QUESTIONS = (
    "Could you take a look at the numbers and tell me if they work for you?",
    "Do you have time on Thursday to go through it?",
    "Can you confirm which option you prefer?",
    "Would you be able to review the draft?",
)
STATEMENTS = (
    "Here is the latest version for your records, nothing needed from you.",
    "Quick update: the team finished the first pass and it looks good.",
    "Sharing the notes from today's meeting so everyone has them.",
    "The document is in the shared folder now.",
)
COLLEAGUES = ("Dana Reyes", "Omar Haddad", "Priya Nair", "Lukas Berg", "Sofia Rossi")
TEAM = ("Chen Wei", "Amara Obi", "Jonas Falk", "Keiko Sato", "Marta Silva", "Tom Byrne")
FRIENDS = ("Mum", "Alex Kim", "Jordan Lee", "Sam Carter")
TEAMMATES = tuple(f"{n.split()[0].lower()}@acme.test" for n in COLLEAGUES + TEAM)


def _conversation(rng: random.Random, p: Persona, world: World) -> tuple[str, bool]:
    topic = rng.choice(WORK_TOPICS if p.category is Category.WORK else ("the weekend", "dinner"))
    key = (p.address, topic)
    seen = key in world.topics
    world.topics.setdefault(key, False)
    return (f"Re: {topic}" if seen else topic), world.topics[key]


def _colleague(rng: random.Random, p: Persona, world: World) -> Draft:
    subject, _ = _conversation(rng, p, world)
    question = rng.random() < 0.45
    due = rng.choice((2, 4, 9)) if rng.random() < 0.25 else None
    body = f"Hi,\n\n{rng.choice(QUESTIONS if question else STATEMENTS)}\n"
    if due is not None:
        body += "Please send it over by the end of the week.\n"
    cc = tuple(rng.sample(TEAMMATES, k=rng.choice((0, 1, 2))))
    return Draft(
        subject,
        body + "\nThanks,\n" + p.name.split()[0],
        p_open=0.95 if question else 0.85,
        p_reply=0.85 if question else 0.1,
        p_archive_read=0.3,
        cc=tuple(a for a in cc if a != p.address),
        due_in_days=due,
    )


def _manager(rng: random.Random, p: Persona, world: World) -> Draft:
    draft = _colleague(rng, p, world)
    draft.p_open, draft.p_reply = 0.97, (0.7 if "?" in draft.body else 0.05)
    return draft


def _teammate(rng: random.Random, p: Persona, world: World) -> Draft:
    subject, _ = _conversation(rng, p, world)
    in_cc = rng.random() < 0.6
    others = tuple(a for a in rng.sample(TEAMMATES, k=3) if a != p.address)
    question = not in_cc and rng.random() < 0.4
    return Draft(
        subject,
        f"Hi all,\n\n{rng.choice(QUESTIONS if question else STATEMENTS)}\n\nBest,\n{p.name}",
        p_open=0.12 if in_cc else 0.8,
        p_reply=0.6 if question else 0.0,
        p_archive_read=0.5,
        skip=(("", 0.6), ("archive_unread", 0.4)),
        to=others if in_cc else (USER, *others[:1]),
        cc=(USER,) if in_cc else (),
    )


def _friend(rng: random.Random, p: Persona, world: World) -> Draft:
    subject, _ = _conversation(rng, p, world)
    question = rng.random() < 0.5
    line = "Are you free on Saturday for dinner?" if question else "Photos from the trip attached!"
    return Draft(subject, f"Hey!\n\n{line}\n\nLove,\n{p.name}", p_open=0.92, p_reply=0.5)


def _newsletter(p_open: float, p_archive_read: float, topics: Sequence[str] = ()) -> Writer:
    def write(rng: random.Random, p: Persona, world: World) -> Draft:
        topic = rng.choice(
            topics or ("Weekly digest", "This week in tech", "Top stories", "Editor's picks")
        )
        subject = f"{topic}: {rng.choice(('issue', 'edition', 'roundup'))} #{rng.randint(1, 400)}"
        if topics:
            wanted = topic.split()[0].lower() in {"rust", "postgres"}
            chance = 0.85 if wanted else 0.07
        else:
            chance = p_open
        body = "Here are this week's stories.\n\nRead more on our site.\n\nUnsubscribe here."
        return Draft(
            subject,
            body,
            p_open=chance,
            p_archive_read=p_archive_read,
            skip=(("", 0.5), ("archive_unread", 0.3), ("delete_unread", 0.2)),
            to=(f"subscribers@{p.address.split('@')[1]}",),
        )

    return write


def _tool(subjects: Sequence[tuple[str, float]]) -> Writer:
    def write(rng: random.Random, p: Persona, world: World) -> Draft:
        template, chance = rng.choice(subjects)
        repo = rng.choice(("postwise", "infra", "website"))
        return Draft(
            template.format(repo=repo, n=rng.randint(10, 999)),
            f"{template.format(repo=repo, n=rng.randint(10, 999))}\n\nView it on the web.",
            p_open=chance,
            p_archive_read=0.6,
            skip=(("", 0.5), ("archive_unread", 0.5)),
        )

    return write


def _promotion(rng: random.Random, p: Persona, world: World) -> Draft:
    offer = rng.choice(("20% off everything", "Last chance: free shipping", "New arrivals"))
    return Draft(
        offer,
        f"{offer}!\n\nShop now.\n\nUnsubscribe.",
        p_open=0.04,
        skip=(("", 0.4), ("delete_unread", 0.6)),
    )


def _receipt(p_open: float) -> Writer:
    def write(rng: random.Random, p: Persona, world: World) -> Draft:
        return Draft(
            f"Your receipt #{rng.randint(1000, 9999)}",
            f"Thank you for your order. Total: {rng.randint(5, 300)}.00 EUR.",
            p_open=p_open,
            p_archive_read=0.7,
            skip=(("", 0.5), ("archive_unread", 0.5)),
        )

    return write


def _cold(rng: random.Random, p: Persona, world: World) -> Draft:
    return Draft(
        rng.choice(("Quick question", "Partnership opportunity", "15 minutes next week?")),
        "Hi,\n\nI help companies like yours grow revenue. Would you be open to a quick call?",
        p_open=0.06,
        skip=(("", 0.7), ("delete_unread", 0.3)),
    )


def personas() -> list[Persona]:
    def person(name: str, domain: str = "acme.test") -> str:
        return f"{name.split()[0].lower()}@{domain}"

    out = [Persona(person(n), n, Category.WORK, 3.0, _colleague) for n in COLLEAGUES]
    out.append(Persona("ines@acme.test", "Ines Moreau", Category.WORK, 3.0, _manager))
    out += [Persona(person(n), n, Category.WORK, 2.0, _teammate) for n in TEAM]
    out += [Persona(person(n, "mail.test"), n, Category.PERSONAL, 1.0, _friend) for n in FRIENDS]
    for i, (p_open, p_archive) in enumerate(((0.03, 0), (0.05, 0), (0.04, 0), (0.08, 0))):
        out.append(
            Persona(
                f"news@letter{i}.test",
                f"Letter {i}",
                Category.NEWSLETTER,
                2.5,
                _newsletter(p_open, p_archive),
                list_id=f"<weekly.letter{i}.test>",
                unsubscribe=True,
            )
        )
    out.append(
        Persona(
            "digest@lwn.test",
            "LWN",
            Category.NEWSLETTER,
            2.0,
            _newsletter(0.85, 0.9),
            list_id="<lwn.test>",
            unsubscribe=True,
        )
    )
    out.append(
        Persona(
            "hello@weekly.test",
            "Dev Weekly",
            Category.NEWSLETTER,
            3.0,
            _newsletter(0, 0.5, ("Rust news", "Postgres tips", "Frontend trends", "Cloud costs")),
            list_id="<dev.weekly.test>",
            unsubscribe=True,
        )
    )
    github = (
        ("[{repo}] Review requested on #{n}", 0.9),
        ("[{repo}] CI failed on main", 0.6),
        ("[{repo}] CI passed on #{n}", 0.03),
        ("[{repo}] New comment on #{n}", 0.5),
    )
    out.append(
        Persona("notifications@github.test", "GitHub", Category.NOTIFICATION, 5.0, _tool(github))
    )
    jira = (("Issue {n} was assigned to you", 0.85), ("Issue {n} was updated", 0.08))
    out.append(Persona("jira@acme.test", "Jira", Category.NOTIFICATION, 3.0, _tool(jira)))
    for name in ("monitor", "backup", "status"):
        out.append(
            Persona(
                f"noreply@{name}.test",
                name.title(),
                Category.NOTIFICATION,
                2.0,
                _tool((("Daily report {n}", 0.04), ("All systems normal", 0.02))),
                auto=True,
            )
        )
    for shop in ("shoes", "gadgets", "travel", "books", "food"):
        out.append(
            Persona(
                f"offers@{shop}.test",
                shop.title(),
                Category.PROMOTION,
                2.0,
                _promotion,
                unsubscribe=True,
            )
        )
    out.append(Persona("orders@shop.test", "Shop", Category.RECEIPT, 1.0, _receipt(0.1)))
    out.append(Persona("statements@bank.test", "Bank", Category.RECEIPT, 0.7, _receipt(0.85)))
    out.append(Persona("", "", Category.COLD_OUTREACH, 2.0, _cold))  # a new sender each time
    return out


# --- the stream -------------------------------------------------------------------------------


def _actions(rng: random.Random, draft: Draft) -> tuple[str, ...]:
    if rng.random() >= draft.p_open:
        choice = rng.choices([a for a, _ in draft.skip], weights=[w for _, w in draft.skip])[0]
        return (choice,) if choice else ()
    acts = ["open"]
    if rng.random() < draft.p_reply:
        acts.append("reply")
    elif rng.random() < draft.p_archive_read:
        acts.append("archive")
    return tuple(acts)


def _triage(persona: Persona, draft: Draft, sent: datetime) -> Triage:
    """What triage would say: the sender's kind, a reply wanted for a question, the deadline."""
    items = []
    if draft.due_in_days is not None:
        due = (sent + timedelta(days=draft.due_in_days)).date()
        items.append(ActionItem(text="Send it over", due=due))
    asks = "?" in draft.body and persona.category in (Category.WORK, Category.PERSONAL)
    return Triage(
        category=persona.category,
        needs_reply=asks,
        needs_reply_confidence=0.8 if asks else 0.1,
        summary=draft.subject,
        action_items=items,
    )


def _mail(persona: Persona, draft: Draft, address: str, sent: datetime) -> MailView:
    return MailView(
        subject=draft.subject,
        from_name=persona.name,
        from_address=address,
        text=draft.body,
        to=draft.to,
        cc=draft.cc,
        sent_at=sent,
        list_id=persona.list_id,
        list_unsubscribe="<mailto:unsubscribe@example.test>"
        if persona.unsubscribe or persona.list_id
        else None,
        auto_submitted="auto-generated" if persona.auto else None,
        user_addresses=frozenset({USER}),
    )


def simulate(
    seed: int,
    *,
    messages: int = 1600,
    noise: float = 0.0,
    triage: Callable[[MailView, datetime], Triage] | None = None,
) -> list[Event]:
    """`messages` messages over about two months, in time order, with the user's actions.

    `noise` pulls every hidden chance towards a coin flip (0.3: 0.9 becomes 0.78), for a user
    less set in their ways; `triage` replaces the sender's true kind with a real triage
    (`postwise.ai.local.triage.triage`, given the message and the time it arrived)."""
    rng = random.Random(seed)
    world = World(rng)
    cast = personas()
    weights = [p.weight for p in cast]
    sent = START
    events: list[Event] = []
    for _ in range(messages):
        sent += timedelta(minutes=rng.randint(5, 90))
        persona = rng.choices(cast, weights=weights)[0]
        address = persona.address
        if not address:
            world.new_senders += 1
            address = f"rep{world.new_senders}@growth{world.new_senders % 50}.test"
        draft = persona.write(rng, persona, world)
        draft.p_open = noise * 0.5 + (1.0 - noise) * draft.p_open
        key = (persona.address, draft.subject.removeprefix("Re: "))
        took_part = world.topics.get(key, False)
        actions = _actions(rng, draft)
        if "reply" in actions and key in world.topics:
            world.topics[key] = True
        view = _mail(persona, draft, address, sent)
        events.append(
            Event(
                mail=view,
                triage=triage(view, sent) if triage else _triage(persona, draft, sent),
                user_replied_in_thread=took_part,
                actions=actions,
                p_important=draft.p_open,
            )
        )
    return events


# --- the replay -------------------------------------------------------------------------------


@dataclass
class SenderBook:
    """Sender counters as `ai.learning` keeps them, in memory."""

    facts: dict[str, SenderFacts] = field(default_factory=dict)
    engaged_at: dict[str, datetime] = field(default_factory=dict)

    def arrive(self, mail: MailView) -> None:
        old = self.facts.get(mail.from_address, SenderFacts())
        self.facts[mail.from_address] = replace(old, received=old.received + 1, name=mail.from_name)

    def at(self, address: str, when: datetime) -> SenderFacts | None:
        found = self.facts.get(address)
        if found is None:
            return None
        engaged = self.engaged_at.get(address)
        days = (when - engaged).total_seconds() / 86400 if engaged else None
        return replace(found, days_since_last_action=days)

    def act(self, address: str, action: str, when: datetime) -> None:
        updated = after_action(self.facts.get(address), action)
        if updated.days_since_last_action == 0.0:
            self.engaged_at[address] = when
        self.facts[address] = updated


@dataclass(frozen=True)
class ReplayResult:
    agreement: float  # predicted Important (score >= the user's threshold) vs what they did
    agreement_at_half: float  # the same at a fixed 0.5
    ceiling: float  # the best any model could expect: mean of max(p, 1 - p) of the hidden odds
    important_share: float  # how much of the evaluated mail the user acted on
    evaluated: int
    threshold: float


def replay(
    events: Sequence[Event],
    *,
    train_share: float = 0.5,
    share: float | None = None,
    model: PriorityModel | None = None,
    learn_after_split: bool = True,
) -> ReplayResult:
    """Learn online in time order; on the mail after `train_share`, predict each message at its
    arrival (before the user acts, as the inbox would) and count agreement, learning on.

    With `learn_after_split` False the model stops learning at the split (the sender counters
    still count, as they would). The Important threshold is refreshed every 100 messages from
    the last 500 scores, keeping `share` of them (default: the share of mail the user acted on
    while training, what a user who tuned their setting would choose)."""
    model = model or PriorityModel()
    book = SenderBook()
    split = int(len(events) * train_share)
    target = share if share is not None else sum(e.important for e in events[:split]) / split
    scores: list[float] = []
    threshold = threshold_for([], share=target)
    agree = agree_half = 0
    for index, event in enumerate(events):
        mail = event.mail
        when = mail.sent_at or START
        book.arrive(mail)
        x = features(
            mail,
            stats=book.at(mail.from_address, when),
            triage=event.triage,
            user_replied_in_thread=event.user_replied_in_thread,
        )
        score = model.score(x)
        scores.append(score)
        if index % 100 == 0:
            threshold = threshold_for(scores[-500:], share=target)
        if index >= split:
            agree += (score >= threshold) == event.important
            agree_half += (score >= 0.5) == event.important
        for action in event.actions or ("ignored",):
            important, weight = FEEDBACK[action]
            x = features(
                mail,
                stats=book.at(mail.from_address, when),
                triage=event.triage,
                user_replied_in_thread=event.user_replied_in_thread,
            )
            if learn_after_split or index < split:
                model.learn(x, important=important, weight=weight)
            book.act(mail.from_address, action, when)
    tail = events[split:]
    return ReplayResult(
        agreement=agree / len(tail),
        agreement_at_half=agree_half / len(tail),
        ceiling=sum(max(e.p_important, 1 - e.p_important) for e in tail) / len(tail),
        important_share=sum(e.important for e in tail) / len(tail),
        evaluated=len(tail),
        threshold=threshold,
    )
