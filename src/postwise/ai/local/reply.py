"""Reply drafts on the local provider: an editable template answering the last message of a
thread, in the user's style (greeting, sign-off, name) and the chosen tone.

The template greets the sender by first name, answers a proposed meeting time (accepting it, or
declining with an alternative when told to), gives every question a placeholder line, and
acknowledges the message otherwise. Only `request.instruction`, which the user typed, steers it;
the mail is data: nothing it says selects a line, and only short fragments of it (a question's
topic, a proposed time) are echoed, never its quoted history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from postwise.ai.local import actions
from postwise.ai.local.sentences import is_pleasantry, sentences, words
from postwise.ai.mailview import MailView
from postwise.ai.providers.base import ReplyRequest, Style
from postwise.ai.results import Tone

__all__ = ["draft_reply", "instruction_intents", "proposed_time", "question_topic"]

_MAX_QUESTIONS = 5
_MAX_TOPIC_WORDS = 10
_SHORT_WRITER_WORDS = 25  # a user whose mail is this short gets no closing pleasantry
_SHORT_MEETING_QUESTION = 6  # "Does that work for you?" needs no line of its own


@dataclass(frozen=True)
class _Wording:
    greeting: str  # {name} is the sender's first name
    greeting_no_name: str
    sign_off: str
    ack: str
    meeting_yes: str  # {time}
    meeting_alternative: str
    meeting_no: str  # {time}
    meeting_later: str
    yes: str
    no: str
    thanks: str
    more_time: str
    more_info: str
    will_do: str  # {due}: " by Friday, November 22" or ""
    closing: str | None


_WORDING = {
    Tone.NEUTRAL: _Wording(
        greeting="Hi {name},",
        greeting_no_name="Hi,",
        sign_off="Best,",
        ack="Thanks for your message, noted.",
        meeting_yes="{time} works for me.",
        meeting_alternative="If that changes, I could also do [alternative time].",
        meeting_no="Unfortunately {time} doesn't work for me.",
        meeting_later="Could we move this to [alternative time]?",
        yes="Yes, happy to do that.",
        no="Unfortunately I won't be able to do this.",
        thanks="Thanks a lot for this.",
        more_time="Could I have a little more time on this? I expect to have it by [date].",
        more_info="Could you share a few more details about [what you need]?",
        will_do="I'll take care of this{due}.",
        closing="Let me know if you need anything else.",
    ),
    Tone.FRIENDLY: _Wording(
        greeting="Hi {name}!",
        greeting_no_name="Hi there!",
        sign_off="Cheers,",
        ack="Thanks so much for the message!",
        meeting_yes="{time} works great for me!",
        meeting_alternative="If anything changes, [alternative time] would work too.",
        meeting_no="Sadly {time} doesn't work for me.",
        meeting_later="Could we push this to [alternative time]?",
        yes="Yes, absolutely, happy to!",
        no="I'm really sorry, but I won't be able to do this.",
        thanks="Thank you so much for this, I really appreciate it!",
        more_time="Would it be OK if I took a bit more time on this? I should have it by [date].",
        more_info="Could you tell me a bit more about [what you need]?",
        will_do="I'll take care of this{due}!",
        closing="Talk soon!",
    ),
    Tone.FORMAL: _Wording(
        greeting="Dear {name},",
        greeting_no_name="Hello,",
        sign_off="Kind regards,",
        ack="Thank you for your message. I have noted the details.",
        meeting_yes="{time} suits me well.",
        meeting_alternative="Should that no longer suit you, I could also offer "
        "[alternative time].",
        meeting_no="Unfortunately {time} does not suit me.",
        meeting_later="Would it be possible to move this to [alternative time]?",
        yes="I am glad to confirm that I can do this.",
        no="I regret that I will not be able to do this.",
        thanks="Thank you very much for this.",
        more_time="Would it be possible to have some more time on this? I expect to reply by "
        "[date].",
        more_info="Could you kindly provide further details about [what you need]?",
        will_do="I will take care of this{due}.",
        closing="Please do not hesitate to contact me should you need anything further.",
    ),
    Tone.BRIEF: _Wording(
        greeting="Hi {name},",
        greeting_no_name="Hi,",
        sign_off="Thanks,",
        ack="Thanks, noted.",
        meeting_yes="{time} works.",
        meeting_alternative="Alternative: [alternative time].",
        meeting_no="{time} doesn't work for me.",
        meeting_later="Can we do [alternative time] instead?",
        yes="Yes, will do.",
        no="Sorry, I can't do this.",
        thanks="Thanks!",
        more_time="Need a bit more time, by [date].",
        more_info="Can you send more details on [what you need]?",
        will_do="Will do{due}.",
        closing=None,
    ),
}
_FORMAL_SIGN_OFF_RE = re.compile(r"regards|sincerely|respectfully|yours", re.IGNORECASE)

# What the user's instruction asks for, by keyword (checked in this order: "don't accept" is a
# refusal before it is an acceptance).
_INSTRUCTIONS = (
    (
        "decline",
        r"declin|say\s+no\b|no\s+thanks|refus|reject|turn\s+(?:\w+\s+)?down"
        r"|not\s+interested|can'?t\s+make|cannot|unable|pass\s+on|don'?t\s+accept",
    ),
    ("more_time", r"more\s+time|extension|extend|postpone|push\s+(?:\w+\s+)?back|delay"),
    (
        "more_info",
        r"more\s+(?:info|information|details?)|clarif|ask\s+(?:for\s+)?(?:more\s+)?(?:info"
        r"|details?)|ask\s+(?:what|which|about|how|why|when|where|who)",
    ),
    ("accept", r"accept|say\s+yes|\byes\b|agree|confirm|go\s+ahead|sounds\s+good|happy\s+to"),
    ("thank", r"thank"),
)
_INSTRUCTION_RES = tuple(
    (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _INSTRUCTIONS
)

_MEETING_RE = re.compile(
    r"\b(?:meet|meeting|call|catch\s+up|chat|coffee|lunch|dinner|sync|available|free|slot"
    r"|works?\s+for\s+you|suit\s+you|schedule|reschedule|move|appointment|conference|demo"
    r"|interview|session|get\s+together)\b",
    re.IGNORECASE,
)
_TIME_RE = re.compile(
    r"(?:\s*,)?\s*(?:(?:at|around|from|after|by)\s+)?(?:\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)"
    r"|\d{1,2}:\d{2}|\d{1,2}(?=\s*(?:$|[?.!,;]|\s+(?:o'clock|or|on|next|this)\b))|noon|midday)"
    r"|\s+(?:morning|afternoon|evening|night|lunchtime)\b",
    re.IGNORECASE,
)
_STANDALONE_TIME_RE = re.compile(
    r"\b(?:at|around)\s+\d{1,2}(?::\d{2})?\s?(?:am|pm)?\b|\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b",
    re.IGNORECASE,
)
_QUESTION_LEAD_RE = re.compile(
    r"^(?:(?:so|and|also|but|btw|ok|okay|one\s+more\s+thing|quick\s+question|[A-Z]\w+)"
    r"\s*[,:-]\s*)+",
)
_QUESTION_FRAME_RE = re.compile(
    r"^(?:(?:what|when|where|who|which|why|how)(?:'s|'re|\s+(?:is|are|was|were|do|does|did|can"
    r"|could|would|will|should|about|much|many|long|often|soon))?"
    r"|(?:do|does|did|can|could|would|will|should|shall|is|are|was|were|have|has|had|may|might)"
    r"\s+(?:you|we|i|they|it|there|someone|anyone|this|that|he|she))"
    r"(?:\s+(?:you|we|i|they|it|there|please|possibly|also|still|all|guys))*"
    r"(?:\s+(?:be\s+able\s+to|have\s+a\s+chance\s+to|mind|have|know|think|remember))?\s+",
    re.IGNORECASE,
)
# The reply speaks back: "send me your notes" is "send you my notes" from the other side.
_SWAPS = {"me": "you", "my": "your", "your": "my", "yours": "mine", "us": "you", "our": "your"}
_SWAP_RE = re.compile(r"\b(?:me|my|your|yours|us|our)\b", re.IGNORECASE)
_DANGLING = frozenset({"a", "an", "the", "to", "of", "for", "with", "in", "on", "at", "by", "and"})
_DANGLING |= frozenset({"or", "but", "that", "which", "is", "are", "from", "about", "this"})


def instruction_intents(instruction: str | None) -> list[str]:
    """What the user's instruction asks for: any of "thank", "decline" or "accept", "more_time",
    "more_info", in the order the reply says them; empty when no keyword matched."""
    if not instruction:
        return []
    found = {name for name, pattern in _INSTRUCTION_RES if pattern.search(instruction)}
    if "decline" in found:
        found.discard("accept")  # "don't accept" is a refusal
    return [name for name in _INSTRUCTION_ORDER if name in found]


_INSTRUCTION_ORDER = ("thank", "decline", "accept", "more_time", "more_info")


def _first_name(mail: MailView) -> str:
    """How to greet the sender: their first name, "Ms. Alvarez" for an honorific, and nothing
    for a team or a system ("Billing", "no-reply")."""
    name = mail.from_name.strip().strip("\"'")
    if name.count(",") == 1:  # "Whitfield, Dana"
        name = name.split(",")[1].strip()
    tokens = name.split()
    if not tokens or "@" in name or not any(c.isalpha() for c in tokens[0]):
        return ""
    if _HONORIFIC_RE.match(tokens[0]):
        return " ".join(tokens[:2]) if len(tokens) > 1 else ""
    if any(t.lower() in _NOT_A_PERSON for t in tokens) or len(tokens) > 3:
        return ""
    return tokens[0]


_HONORIFIC_RE = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|mx)\.?$", re.IGNORECASE)
_NOT_A_PERSON = frozenset(
    {"billing", "support", "team", "sales", "info", "service", "services", "the", "no-reply"}
    | {"noreply", "notifications", "newsletter", "news", "hr", "it", "desk", "office", "admin"}
    | {"customer", "care", "accounts", "account", "bank", "inc", "ltd", "llc", "via", "helpdesk"}
)


def proposed_time(text: str) -> str | None:
    """The first meeting time `text` proposes ("Thursday afternoon", "December 3", "at 3pm")."""
    for sentence in sentences(text):
        if not _MEETING_RE.search(sentence):
            continue
        found = actions.target_dates(sentence)
        if found:
            start, end = found[0].span()
            time = _TIME_RE.match(sentence, end)
            if time:
                end = time.end()
            return sentence[start:end].strip(" ,")
        standalone = _STANDALONE_TIME_RE.search(sentence)
        if standalone:
            return standalone.group(0)
    return None


def question_topic(question: str) -> str:
    """What a question is about, to be named in the answer line ("What's the status of the
    Henderson contract?" -> "the status of the Henderson contract")."""
    text = _QUESTION_LEAD_RE.sub("", question.strip())
    text = _QUESTION_FRAME_RE.sub("", text, count=1)
    text = text.rstrip(" ?!.").strip()
    text = _SWAP_RE.sub(lambda m: _swap(m.group(0)), text)
    tokens = text.split()[:_MAX_TOPIC_WORDS]
    if tokens and tokens[0].lower() in actions.IMPERATIVE_VERBS:
        tokens[0] = _gerund(tokens[0].lower())  # "send you the deck" -> "sending you the deck"
    while len(tokens) > 1 and tokens[-1].lower().strip(",;:") in _DANGLING:
        tokens.pop()
    topic = " ".join(tokens).rstrip(",;:")
    return topic or question.strip().rstrip("?")


_VOWELS = frozenset("aeiou")
_NO_DOUBLING = frozenset({"open", "offer", "order", "enter", "answer", "visit", "edit"})


def _gerund(verb: str) -> str:
    """The -ing form of a base verb, by the spelling rules that cover the verbs asked for."""
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and len(verb) > 2:
        return verb[:-1] + "ing"
    doubles = (
        len(verb) <= 4
        and verb not in _NO_DOUBLING
        and verb[-1] not in _VOWELS | {"w", "x", "y"}
        and verb[-2] in _VOWELS
        and (len(verb) < 3 or verb[-3] not in _VOWELS)
    )
    return verb + verb[-1] + "ing" if doubles else verb + "ing"


def _swap(word: str) -> str:
    swapped = _SWAPS[word.lower()]
    return swapped.capitalize() if word[:1].isupper() else swapped


def _format_due(due: date | None) -> str:
    return f" by {due:%A}, {due:%B} {due.day}" if due else ""


def _greeting(style: Style, tone: Tone, first: str) -> str:
    wording = _WORDING[tone]
    pattern = style.greeting if style.greeting and tone is not Tone.FORMAL else None
    if pattern is None:
        return wording.greeting.replace("{name}", first) if first else wording.greeting_no_name
    if "{name}" not in pattern:
        return pattern
    if first:
        return pattern.replace("{name}", first)
    return re.sub(r"\s*\{name\}", "", pattern)


def _sign_off(style: Style, tone: Tone) -> list[str]:
    learned = style.sign_off
    if tone is Tone.FORMAL and learned and not _FORMAL_SIGN_OFF_RE.search(learned):
        learned = None
    lines = [learned or _WORDING[tone].sign_off]
    if style.name:
        lines.append(style.name)
    return lines


def _meeting_lines(time: str, intents: list[str], wording: _Wording) -> list[str]:
    if "decline" in intents:
        return [wording.meeting_no.format(time=time)]
    if "more_time" in intents:
        return [wording.meeting_later]
    return [wording.meeting_yes.format(time=time), wording.meeting_alternative]


def _instruction_lines(intents: list[str], wording: _Wording, *, meeting: bool) -> list[str]:
    """The lines the user's instruction asks for (a meeting line may have said some already)."""
    said_by_meeting = {"decline", "accept", "more_time"} if meeting else set()
    text = {
        "decline": wording.no,
        "accept": wording.yes,
        "more_time": wording.more_time,
        "more_info": wording.more_info,
    }
    return [text[i] for i in intents if i in text and i not in said_by_meeting]


def _body_lines(request: ReplyRequest, last: MailView) -> list[str]:
    wording = _WORDING[request.tone]
    intents = instruction_intents(request.instruction)
    lines: list[str] = [wording.thanks] if "thank" in intents else []
    time = proposed_time(last.body)
    if time:
        lines += _meeting_lines(time, intents, wording)
    questions = [
        s
        for s in sentences(last.body)
        if s.endswith("?") and len(words(s)) >= 3 and not is_pleasantry(s)
    ]
    if time:  # the meeting line answers the question that proposed it, and "Are you free?"
        questions = [
            q
            for q in questions
            if time.lower() not in q.lower()
            and not (_MEETING_RE.search(q) and len(words(q)) <= _SHORT_MEETING_QUESTION)
        ]
    lines += [f"About {question_topic(q)}: [your answer]" for q in questions[:_MAX_QUESTIONS]]
    lines += _instruction_lines(intents, wording, meeting=bool(time))
    if not intents and request.instruction and request.instruction.strip():
        # An instruction no keyword covers stays visible for the user to write out.
        lines.append(f"[{request.instruction.strip()[:200]}]")
    if not lines:
        lines.append(_acknowledgement(last, wording))
    return [line[:1].upper() + line[1:] for line in lines]


def _acknowledgement(last: MailView, wording: _Wording) -> str:
    # Due dates are read as the sender meant them, relative to when the message was sent;
    # without a date on the message there is no due date to name (and no clock is read).
    asks = actions.action_items(last.body, now=last.sent_at or _NO_DATE)
    if asks:
        due = asks[0].due if last.sent_at else None
        return wording.will_do.format(due=_format_due(due))
    return wording.ack


_NO_DATE = datetime(2000, 1, 1)


def draft_reply(request: ReplyRequest) -> str:
    """The reply to the last message of `request.thread`, as editable plain text."""
    if not request.thread:
        return "\n".join(_sign_off(request.style, request.tone))
    last = request.thread[-1]
    wording = _WORDING[request.tone]
    parts = [_greeting(request.style, request.tone, _first_name(last)), ""]
    parts += _body_lines(request, last)
    short_writer = request.style.median_words < _SHORT_WRITER_WORDS
    if wording.closing and not (short_writer and request.tone is Tone.NEUTRAL):
        parts += ["", wording.closing]
    parts += ["", *_sign_off(request.style, request.tone)]
    return "\n".join(parts) + "\n"
