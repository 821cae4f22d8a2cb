"""A realistic mailbox, generated from a seed and written straight into a Maildir.

The mix follows what real inboxes hold: conversations (plain text or text + HTML, replies that
quote what came before, threads across INBOX and Sent), HTML newsletters (10-60 KB, tracking
links and pixels), notifications (code review, shipping, security, receipts, calendar invites,
many of them threaded by the sender), and mail with attachments (PDFs, photos, office files,
inline images). About a third is not plain ASCII (names, subjects or bodies): RFC 2047 subjects
and names, UTF-8 and ISO-8859-1 bodies, quoted-printable and base64, RFC 2231 file names (and
RFC 2047 ones, as Outlook sends them). Received mail carries the headers
servers add (Received, DKIM-Signature, Authentication-Results); sent mail only what a mail
client writes. A small share has the quirks of mail in the wild (8-bit headers, a charset
called "utf8", no Message-ID).

Everything comes from one `random.Random(seed)`: the same seed and the same `end` give the same
bytes. Dates spread over `span_days` before `end` (by default the start of the current UTC day,
so that a sync window counts them as recent).
"""

# ruff: noqa: RUF001  (names and sentences in other scripts, on purpose)

from __future__ import annotations

import base64
import binascii
import bisect
import os
import random
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.charset import QP, Charset
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

INBOX, SENT, ARCHIVE = "INBOX", "Sent", "Archive"
KINDS = ("conversation", "attachment", "newsletter", "notification")
_KIND_WEIGHTS = (0.44, 0.08, 0.17, 0.31)
_CUM_WEIGHTS = [sum(_KIND_WEIGHTS[: i + 1]) for i in range(len(_KIND_WEIGHTS))]

# --- people and words ---------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


# (display, ascii) pairs per locale: the ascii form makes the address.
_FIRST: dict[str, list[tuple[str, str]]] = {
    "en": [
        (n, n.lower())
        for n in _words(
            "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
            "Barbara Richard Susan Joseph Jessica Thomas Sarah Chris Karen Daniel Lisa "
            "Matthew Nancy Anthony Emily Mark Ashley Steven Olivia Andrew Grace Kevin "
            "Hannah Brian Chloe Ryan Amy Jason Rachel Priya Arjun Wei Mei Kwame Amara Diego "
            "Lucia Omar Layla"
        )
    ],
    "de": [
        ("Jürgen", "juergen"),
        ("Jörg", "joerg"),
        ("Käthe", "kaethe"),
        ("Lukas", "lukas"),
        ("Anna", "anna"),
        ("Björn", "bjoern"),
        ("Sören", "soeren"),
        ("Mia", "mia"),
        ("Günther", "guenther"),
        ("Lena", "lena"),
    ],
    "fr": [
        ("Amélie", "amelie"),
        ("François", "francois"),
        ("Hélène", "helene"),
        ("Léa", "lea"),
        ("Jérôme", "jerome"),
        ("Chloé", "chloe"),
        ("Noël", "noel"),
        ("Camille", "camille"),
    ],
    "es": [
        ("José", "jose"),
        ("María", "maria"),
        ("Begoña", "begona"),
        ("Íñigo", "inigo"),
        ("Lucía", "lucia"),
        ("Andrés", "andres"),
        ("Sofía", "sofia"),
        ("Ramón", "ramon"),
    ],
    "pl": [
        ("Łukasz", "lukasz"),
        ("Małgorzata", "malgorzata"),
        ("Paweł", "pawel"),
        ("Zofia", "zofia"),
        ("Wojciech", "wojciech"),
        ("Agnieszka", "agnieszka"),
    ],
    "ru": [
        ("Анна", "anna"),
        ("Дмитрий", "dmitry"),
        ("Ольга", "olga"),
        ("Сергей", "sergey"),
        ("Наталья", "natalia"),
        ("Иван", "ivan"),
    ],
    "ja": [("太郎", "taro"), ("花子", "hanako"), ("健", "ken"), ("美咲", "misaki"), ("翔", "sho")],
}
_LAST: dict[str, list[tuple[str, str]]] = {
    "en": [
        (n, n.lower())
        for n in _words(
            "Smith Johnson Williams Brown Jones Garcia Miller Davis Wilson Anderson Taylor "
            "Thomas Moore Martin Jackson Thompson White Harris Clark Lewis Walker Hall "
            "Young King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell "
            "Roberts Patel Chen Nguyen Okafor Mensah Haddad Kowalski Rossi"
        )
    ],
    "de": [
        ("Müller", "mueller"),
        ("Schäfer", "schaefer"),
        ("Weiß", "weiss"),
        ("Groß", "gross"),
        ("Becker", "becker"),
        ("Köhler", "koehler"),
        ("Schröder", "schroeder"),
    ],
    "fr": [
        ("Lefèvre", "lefevre"),
        ("Dubois", "dubois"),
        ("Gérard", "gerard"),
        ("Moreau", "moreau"),
        ("Bézier", "bezier"),
        ("Fabre", "fabre"),
    ],
    "es": [
        ("Álvarez", "alvarez"),
        ("Muñoz", "munoz"),
        ("Pérez", "perez"),
        ("Gómez", "gomez"),
        ("Ibáñez", "ibanez"),
        ("Núñez", "nunez"),
    ],
    "pl": [
        ("Wróbel", "wrobel"),
        ("Kowalczyk", "kowalczyk"),
        ("Wiśniewska", "wisniewska"),
        ("Zając", "zajac"),
        ("Dąbrowski", "dabrowski"),
    ],
    "ru": [
        ("Иванова", "ivanova"),
        ("Петров", "petrov"),
        ("Смирнова", "smirnova"),
        ("Кузнецов", "kuznetsov"),
        ("Соколова", "sokolova"),
    ],
    "ja": [("田中", "tanaka"), ("鈴木", "suzuki"), ("佐藤", "sato"), ("高橋", "takahashi")],
}
_LOCALE_WEIGHTS = {
    "en": 0.8,
    "de": 0.05,
    "fr": 0.04,
    "es": 0.04,
    "pl": 0.03,
    "ru": 0.02,
    "ja": 0.02,
}
_LATIN1 = {"en", "de", "fr", "es"}  # text that ISO-8859-1 can carry
_DOMAINS = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "corp.example.net",
    "uni.example.edu",
    "studio.example",
    "consulting.example.org",
    "hq.example.com",
    "lab.example.net",
]

_PROJECTS = [
    "Atlas",
    "the Q3 roadmap",
    "the website relaunch",
    "Bluebird",
    "the data migration",
    "the offsite",
    "the budget review",
    "Orion",
    "the hiring plan",
    "the customer pilot",
    "the annual report",
    "the API redesign",
    "Nimbus",
    "the security audit",
]
_TIMES = [
    "on Monday",
    "tomorrow morning",
    "by Friday",
    "next week",
    "before the end of the month",
    "this afternoon",
    "after the holidays",
    "on Thursday at 3pm",
    "early next quarter",
]
_PEOPLE = ["the team", "legal", "finance", "our client", "the vendor", "design", "marketing"]
_TEMPLATES = [
    "Thanks for sending over the notes on {p}.",
    "I had a look at {p} and I think we are mostly on track.",
    "Could we move the review of {p} to {t}?",
    "I spoke with {w} about {p} and they are happy with the direction.",
    "Let me know if you need anything else from me {t}.",
    "The numbers for {p} look better than last time, although a few items are still open.",
    "I will send the updated draft {t}, once {w} has signed off.",
    "Quick question: who owns the next steps on {p}?",
    "Attached are the figures we discussed; the second tab has the breakdown by region.",
    "Sorry for the slow reply, it has been a busy week.",
    "We should probably loop in {w} before we commit to a date for {p}.",
    "I agree with most of this, but the timeline for {p} feels tight.",
    "Can you check whether {w} received the invoice?",
    "Good catch, I have fixed it in the latest version.",
    "I am out of office {t}, so please reach out to {w} if it is urgent.",
    "The meeting about {p} is confirmed for {t}.",
    "Here is a short summary of where we landed on {p}.",
    "I have added a few comments inline, nothing major.",
    "It would help to have the final requirements for {p} {t}.",
    "Happy to jump on a call {t} if that is easier.",
    "One more thing: the contract for {p} still needs a signature from {w}.",
    "I think the simplest option is to postpone {p} until we hear back from {w}.",
    "Great work on {p}, the feedback from {w} was very positive.",
    "Let us keep this thread for decisions and use the doc for details.",
]
_FOREIGN: dict[str, list[str]] = {
    "de": [
        "Vielen Dank für die schnelle Rückmeldung.",
        "Können wir das Treffen auf nächste Woche verschieben?",
        "Ich schicke dir die Unterlagen morgen früh.",
        "Die Präsentation ist fast fertig, es fehlen nur noch die Grafiken.",
        "Bitte prüfe noch einmal die Zahlen für März.",
        "Schöne Grüße aus München und bis bald.",
        "Das Budget für das Projekt ist leider noch nicht freigegeben.",
    ],
    "fr": [
        "Merci beaucoup pour ton retour rapide.",
        "Est-ce qu'on peut décaler la réunion à jeudi ?",
        "Je t'envoie le compte rendu dès que possible.",
        "Le devis a été validé par l'équipe financière.",
        "Voilà les éléments dont nous avons parlé hier.",
        "À très bientôt, et bonne fin de journée.",
    ],
    "es": [
        "Muchas gracias por la información.",
        "¿Podemos hablar mañana por la tarde?",
        "Te envío el presupuesto corregido en un rato.",
        "La reunión de diseño se ha movido al miércoles.",
        "Un saludo cordial y buen fin de semana.",
        "Ya revisé el contrato y no veo ningún problema.",
    ],
    "pl": [
        "Dziękuję za szybką odpowiedź.",
        "Czy możemy przełożyć spotkanie na piątek?",
        "Przesyłam poprawioną wersję dokumentu.",
        "Pozdrawiam serdecznie i do zobaczenia.",
        "Zespół zgodził się na nowy harmonogram.",
    ],
    "ru": [
        "Спасибо за быстрый ответ.",
        "Давайте перенесём встречу на следующую неделю.",
        "Отправляю обновлённую версию договора.",
        "Отчёт будет готов к пятнице.",
        "С уважением и до скорой встречи.",
    ],
    "ja": [
        "お世話になっております。",
        "資料を添付しましたのでご確認ください。",
        "来週の打ち合わせの日程を調整させてください。",
        "ご返信ありがとうございます。",
        "引き続きよろしくお願いいたします。",
    ],
}
_ROLES = ["Project Lead", "Engineer", "Consultant", "Director", "Office Manager"]
_SUBJECTS = [
    "Notes from today",
    "Update on {p}",
    "Question about {p}",
    "Next steps for {p}",
    "Draft for review",
    "Meeting {t}",
    "Invoice and timeline",
    "Feedback on {p}",
    "Quick sync {t}?",
    "Follow-up: {p}",
    "Proposal for {p}",
    "Lunch {t}?",
    "Travel plans",
    "Contract for {p}",
]
_FOREIGN_SUBJECTS: dict[str, list[str]] = {
    "de": ["Rückfrage zum Angebot", "Unterlagen für März", "Termin nächste Woche", "Grüße"],
    "fr": ["Réunion de jeudi", "Compte rendu et prochaines étapes", "Devis révisé"],
    "es": ["Reunión del miércoles", "Presupuesto revisado", "Información del contrato"],
    "pl": ["Spotkanie w piątek", "Poprawiona wersja umowy", "Pytanie o harmonogram"],
    "ru": ["Встреча на следующей неделе", "Обновлённый договор", "Отчёт за квартал"],
    "ja": ["打ち合わせの件", "資料送付のお知らせ", "来週の予定について"],
}


_OUTLOOK_HEAD = (
    '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
    'office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.'
    'com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv='
    '"Content-Type" content="text/html; charset=utf-8"><meta name=Generator content="Microsoft '
    'Word 15 (filtered medium)"><style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:'
    '"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}\n@font-face\n\t{font-family:Calibri;\n\t'
    "panose-1:2 15 5 2 2 2 4 3 2 4;}\n@font-face\n\t{font-family:Aptos;}\n/* Style Definitions "
    "*/\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:12.0pt;\n\t"
    'font-family:"Aptos",sans-serif;\n\tmso-ligatures:standardcontextual;\n\tmso-fareast-language:'
    "EN-US;}\na:link, span.MsoHyperlink\n\t{mso-style-priority:99;\n\tcolor:#467886;\n\t"
    "text-decoration:underline;}\nspan.EmailStyle17\n\t{mso-style-type:personal-compose;\n\t"
    'font-family:"Aptos",sans-serif;\n\tcolor:windowtext;}\n.MsoChpDefault\n\t{mso-style-type:'
    "export-only;\n\tfont-size:10.0pt;\n\tmso-ligatures:none;}\n@page WordSection1\n\t{size:"
    "612.0pt 792.0pt;\n\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}\ndiv.WordSection1\n\t{page:"
    'WordSection1;}\n--></style><!--[if gte mso 9]><xml>\n<o:shapedefaults v:ext="edit" '
    'spidmax="1026" />\n</xml><![endif]--><!--[if gte mso 9]><xml>\n<o:shapelayout v:ext="edit">'
    '\n<o:idmap v:ext="edit" data="1" />\n</o:shapelayout></xml><![endif]--></head><body lang='
    'EN-US link="#467886" vlink="#96607D" style=\'word-wrap:break-word\'>\n'
)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    address: str
    locale: str


@dataclass(frozen=True, slots=True)
class Mail:
    """One generated message and where it goes."""

    folder: str
    kind: str
    raw: bytes
    received: float  # epoch seconds: the Maildir file's mtime, Dovecot's INTERNALDATE
    flags: str  # Maildir info letters (sorted), e.g. "S", "RS", "FS", ""


@dataclass
class CorpusStats:
    count: int = 0
    total_bytes: int = 0
    sizes: list[int] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    folders: Counter[str] = field(default_factory=Counter)
    non_ascii: int = 0
    replies: int = 0
    with_attachments: int = 0

    def add(self, mail: Mail, *, non_ascii: bool, reply: bool, attachments: bool) -> None:
        self.count += 1
        self.total_bytes += len(mail.raw)
        self.sizes.append(len(mail.raw))
        self.kinds[mail.kind] += 1
        self.folders[mail.folder] += 1
        self.non_ascii += non_ascii
        self.replies += reply
        self.with_attachments += attachments

    @property
    def median_bytes(self) -> float:
        return float(statistics.median(self.sizes)) if self.sizes else 0.0

    @property
    def mean_bytes(self) -> float:
        return self.total_bytes / self.count if self.count else 0.0

    @property
    def p90_bytes(self) -> float:
        if len(self.sizes) < 2:
            return float(self.sizes[0]) if self.sizes else 0.0
        return statistics.quantiles(self.sizes, n=10)[-1]

    def mix(self) -> str:
        kinds = ", ".join(f"{k} {self.kinds[k] / max(1, self.count):.0%}" for k in KINDS)
        return (
            f"{kinds}; replies {self.replies / max(1, self.count):.0%}, "
            f"non-ASCII {self.non_ascii / max(1, self.count):.0%}, "
            f"with attachments {self.with_attachments / max(1, self.count):.0%}"
        )


# --- encoding helpers ---------------------------------------------------------------------------


def _is_ascii(text: str) -> bool:
    return text.isascii()


_QP_UTF8 = Charset("utf-8")
_QP_UTF8.header_encoding = QP


def _encode_header(text: str, charset: str, style: str) -> str:
    """RFC 2047 when needed: UTF-8 as B or Q words, ISO-8859-1 as Q words."""
    if _is_ascii(text):
        return text
    if charset == "iso-8859-1":
        try:
            text.encode("latin-1")
            return Header(text, "iso-8859-1").encode(maxlinelen=76)
        except UnicodeEncodeError:
            pass
    if style == "Q":
        return Header(text, _QP_UTF8).encode(maxlinelen=76)
    return Header(text, "utf-8").encode(maxlinelen=76)


def _address(person: Person, charset: str, style: str) -> str:
    name = person.name
    if _is_ascii(name):
        if any(c in name for c in ',.;:@"()<>[]'):
            name = '"' + name.replace('"', "") + '"'
        return f"{name} <{person.address}>"
    return f"{_encode_header(name, charset, style)} <{person.address}>"


def _wrap(text: str, width: int = 72) -> str:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if len(paragraph) <= width:
            lines.append(paragraph)
            continue
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def _flowed(text: str, width: int = 72) -> str:
    """RFC 3676 format=flowed: soft breaks end with a space."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = _wrap(paragraph, width).split("\n")
        out.extend(line + " " for line in wrapped[:-1])
        out.append(wrapped[-1])
    return "\n".join(out)


def _b64_lines(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def _qp(data: bytes) -> str:
    return binascii.b2a_qp(data, istext=True).decode("ascii")


@dataclass(frozen=True, slots=True)
class _Part:
    """A finished MIME leaf or multipart: its headers (without MIME-Version) and body."""

    headers: list[str]
    body: str


def _text_part(
    text: str, *, subtype: str, charset: str, encoding: str, flowed: bool = False
) -> _Part:
    if charset == "iso-8859-1":
        data = text.encode("latin-1", errors="replace")
    elif charset == "us-ascii":
        data = text.encode("ascii", errors="replace")
    else:
        data = text.encode("utf-8")
    params = f"; charset={charset}" if subtype == "html" else f'; charset="{charset}"'
    if flowed:
        params += "; format=flowed"
    if encoding == "8bit" and data.isascii():
        encoding = "7bit"
    if encoding in ("7bit", "8bit"):
        body = data.decode("latin-1") if charset == "iso-8859-1" else data.decode("utf-8")
        body = body.replace("\r\n", "\n")
        if not body.endswith("\n"):
            body += "\n"
    elif encoding == "base64":
        body = _b64_lines(data)
    else:
        encoding = "quoted-printable"
        body = _qp(data)
        if not body.endswith("\n"):
            body += "\n"
    headers = [f"Content-Type: text/{subtype}{params}", f"Content-Transfer-Encoding: {encoding}"]
    return _Part(headers, body)


def _binary_part(
    data: bytes,
    content_type: str,
    filename: str,
    *,
    inline: bool = False,
    content_id: str | None = None,
    rfc2231: bool = True,
) -> _Part:
    if _is_ascii(filename):
        name_param = f'; name="{filename}"'
        disp_param = f'; filename="{filename}"'
    elif rfc2231:
        name_param = f'; name="{Header(filename, "utf-8").encode()}"'
        disp_param = f"; filename*=utf-8''{quote(filename)}"
    else:  # what Outlook and many mobile clients send: RFC 2047 inside a parameter
        encoded = Header(filename, "utf-8").encode()
        name_param = f'; name="{encoded}"'
        disp_param = f'; filename="{encoded}"'
    headers = [
        f"Content-Type: {content_type}{name_param}",
        f"Content-Disposition: {'inline' if inline else 'attachment'}{disp_param}",
        "Content-Transfer-Encoding: base64",
    ]
    if content_id is not None:
        headers.append(f"Content-ID: <{content_id}>")
    return _Part(headers, _b64_lines(data))


def _multipart(subtype: str, parts: Sequence[_Part], boundary: str, extra: str = "") -> _Part:
    lines: list[str] = []
    if subtype == "mixed":
        lines.append("This is a multi-part message in MIME format.\n")
    for part in parts:
        lines.append(f"--{boundary}\n")
        lines.append("\n".join(part.headers) + "\n\n")
        lines.append(part.body if part.body.endswith("\n") else part.body + "\n")
    lines.append(f"--{boundary}--\n")
    return _Part(
        [f'Content-Type: multipart/{subtype};{extra} boundary="{boundary}"'], "".join(lines)
    )


# --- the generator ------------------------------------------------------------------------------


@dataclass
class _Thread:
    subject: str
    people: list[Person]
    ids: list[str]
    last_text: str
    last_from: Person
    last_at: float
    locale: str
    charset: str


@dataclass
class _NotifyThread:
    subject: str
    ids: list[str]
    last_at: float


@dataclass(frozen=True, slots=True)
class _Sender:
    name: str
    address: str
    domain: str
    list_id: str | None


_NEWSLETTERS = [
    _Sender("The Weekly Brief", "newsletter@news.example.com", "news.example.com", "weekly"),
    _Sender("Design Digest", "hello@digest.example.org", "digest.example.org", "digest"),
    _Sender("Café Société", "bonjour@cafe.example.net", "cafe.example.net", "cafe"),
    _Sender("Tech Roundup", "roundup@tech.example.com", "tech.example.com", "roundup"),
    _Sender("Outdoor Gear Co.", "deals@shop.example.com", "shop.example.com", "deals"),
    _Sender("City Museum", "members@museum.example.org", "museum.example.org", "members"),
    _Sender("Börsenbrief", "info@boerse.example.net", "boerse.example.net", "boerse"),
    _Sender("Product Updates", "updates@saas.example.com", "saas.example.com", "product"),
]
_ARTICLE_TITLES = [
    "Five things we learned this quarter",
    "How small teams ship faster",
    "The best new tools of the month",
    "Inside the making of our spring collection",
    "What the latest numbers really say",
    "A weekend guide to the city",
    "Why simple beats clever",
    "Interview: building for the long term",
    "Members' preview: opening night",
    "Neue Funktionen im Überblick",
    "Les nouveautés de la saison",
    "Our picks for the holidays",
]


class Corpus:
    """`Corpus(seed).mails(count)` yields the same messages for the same seed and `end`."""

    def __init__(
        self, seed: int = 1, *, end: datetime | None = None, span_days: float = 730.0
    ) -> None:
        self.rng = random.Random(seed)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.end = (end or today).timestamp()
        self.span_s = span_days * 86400.0
        rng = self.rng
        self.user = Person("Alex Morgan", "alex.morgan@example.org", "en")
        locales = list(_LOCALE_WEIGHTS)
        weights = list(_LOCALE_WEIGHTS.values())
        self.contacts: list[Person] = []
        seen: set[str] = set()
        while len(self.contacts) < 400:
            locale = rng.choices(locales, weights)[0]
            first, first_ascii = rng.choice(_FIRST[locale])
            last, last_ascii = rng.choice(_LAST[locale])
            name = f"{last} {first}" if locale == "ja" else f"{first} {last}"
            local = rng.choice([f"{first_ascii}.{last_ascii}", f"{first_ascii[0]}{last_ascii}"])
            address = f"{local}@{rng.choice(_DOMAINS)}"
            if address in seen:
                continue
            seen.add(address)
            self.contacts.append(Person(name, address, locale))
        # Some people write far more than others.
        self.contact_weights = [1.0 / (rank + 3) ** 0.9 for rank in range(len(self.contacts))]
        self.sentences = [self._sentence() for _ in range(1500)]
        self.threads: list[_Thread] = []
        self.notify_threads: dict[str, list[_NotifyThread]] = {}

    # -- small pieces ----------------------------------------------------------------------

    def _sentence(self) -> str:
        rng = self.rng
        return rng.choice(_TEMPLATES).format(
            p=rng.choice(_PROJECTS), t=rng.choice(_TIMES), w=rng.choice(_PEOPLE)
        )

    def _token(self, nbytes: int) -> str:
        return base64.urlsafe_b64encode(self.rng.randbytes(nbytes)).decode().rstrip("=")

    def _hex(self, nbytes: int) -> str:
        return self.rng.randbytes(nbytes).hex()

    def _uuid(self) -> str:
        h = self._hex(16)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _contact(self) -> Person:
        return self.rng.choices(self.contacts, self.contact_weights)[0]

    def _paragraphs(self, locale: str, count: int) -> str:
        rng = self.rng
        paragraphs = []
        for _ in range(count):
            if locale != "en" and rng.random() < 0.7:
                pool = _FOREIGN[locale]
                text = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
            else:
                text = " ".join(rng.choice(self.sentences) for _ in range(rng.randint(2, 6)))
            paragraphs.append(text)
        return "\n\n".join(paragraphs)

    def _message_id(self, domain: str) -> str:
        rng = self.rng
        style = rng.random()
        if style < 0.4:
            return f"<CA{self._token(30)}@mail.gmail.example>"
        if style < 0.6:
            return f"<{self._uuid()}@{domain}>"
        if style < 0.75:
            return (
                f"<AM{rng.randint(0, 9)}PR{rng.randint(10, 99)}MB{rng.randint(1000, 9999)}"
                f"{self._hex(10).upper()}@AM0PR01MB{rng.randint(1000, 9999)}.eurprd01.prod.example>"
            )
        return f"<{int(self.end)}.{self._hex(8)}@{domain}>"

    def _date(self, at: float, person: Person) -> str:
        offsets = {"en": -5, "de": 1, "fr": 1, "es": 1, "pl": 1, "ru": 3, "ja": 9}
        moment = datetime.fromtimestamp(at, UTC)
        if person.locale != "en" or self.rng.random() < 0.6:
            moment = moment.astimezone(timezone(timedelta(hours=offsets[person.locale])))
        return format_datetime(moment)

    def _received(self, at: float, sender_domain: str) -> list[str]:
        rng = self.rng
        lines = []
        hops = rng.randint(1, 3)
        stamp = datetime.fromtimestamp(at, UTC)
        for hop in range(hops):
            when = format_datetime(stamp - timedelta(seconds=2 * (hops - hop))).replace(
                "-0000", "+0000"
            )
            lines.append(
                f"Received: from mx{rng.randint(1, 9)}.{sender_domain} "
                f"(mx{rng.randint(1, 9)}.{sender_domain} [198.51.100.{rng.randint(1, 254)}])\n"
                f"\tby mail.example.org (Postfix) with ESMTPS id {self._token(9).upper()}\n"
                f"\tfor <{self.user.address}>; {when} (UTC)"
            )
        return lines

    def _dkim(self, domain: str, at: float) -> list[str]:
        signature = self._token(256)
        folded = "\n\t ".join(signature[i : i + 70] for i in range(0, len(signature), 70))
        return [
            f"Authentication-Results: mail.example.org;\n\tdkim=pass (2048-bit key) "
            f"header.d={domain} header.i=@{domain} header.b={self._token(6)};\n"
            f"\tspf=pass (mail.example.org: domain of {domain} designates 198.51.100.7 as "
            f"permitted sender) smtp.mailfrom={domain};\n"
            f"\tdmarc=pass (p=REJECT) header.from={domain}",
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\n"
            f"\ts=s{self.rng.randint(1, 3)}; t={int(at)}; "
            f"h=from:to:subject:date:message-id:mime-version:content-type;\n"
            f"\tbh={self._token(32)}=;\n\tb={folded}",
        ]

    def _folded(self, nbytes: int, indent: str = "\t") -> str:
        token = self._token(nbytes)
        return f"\n{indent}".join(token[i : i + 72] for i in range(0, len(token), 72))

    def _arc(self, domain: str, at: float) -> list[str]:
        """What a forwarding provider (Google-style ARC) adds on the way."""
        instance = self.rng.randint(1, 2)
        return [
            f"ARC-Seal: i={instance}; a=rsa-sha256; t={int(at)}; cv=none; d=google.example;\n"
            f"\ts=arc-20160816;\n\tb={self._folded(256)}",
            f"ARC-Message-Signature: i={instance}; a=rsa-sha256; c=relaxed/relaxed; "
            "d=google.example; s=arc-20160816;\n\th=to:subject:message-id:date:from:"
            f"mime-version:dkim-signature;\n\tbh={self._token(32)}=;\n\tb={self._folded(256)}",
            f"ARC-Authentication-Results: i={instance}; mx.google.example;\n\tdkim=pass "
            f"header.i=@{domain} header.s=s1 header.b={self._token(6)};\n\tspf=pass "
            f"(google.example: domain of bounce@{domain} designates 198.51.100.7 as permitted "
            f"sender) smtp.mailfrom=bounce@{domain};\n\tdmarc=pass (p=NONE sp=NONE dis=NONE) "
            f"header.from={domain}",
            f"X-Google-Smtp-Source: {self._token(60)}",
            f"X-Received: by 2002:a05:6402:{self._hex(2)} with SMTP id {self._token(12)}"
            f".{self.rng.randint(10, 99)}.{int(at)};\n"
            f"\t{format_datetime(datetime.fromtimestamp(at, UTC))}",
        ]

    def _exchange(self, domain: str) -> list[str]:
        """What Microsoft 365 adds to every message it relays (a lot)."""
        rng = self.rng
        return [
            f"X-MS-Exchange-Organization-Network-Message-Id: {self._hex(4)}-{self._hex(2)}-"
            f"{self._hex(2)}-{self._hex(2)}-{self._hex(6)}",
            "X-MS-Exchange-Organization-AuthSource: AM0PR01MB1234.eurprd01.prod.example",
            "X-MS-Exchange-Organization-AuthAs: Anonymous",
            f"X-MS-Office365-Filtering-Correlation-Id: {self._hex(4)}-{self._hex(2)}-"
            f"{self._hex(2)}-{self._hex(2)}-{self._hex(6)}",
            "X-MS-TrafficTypeDiagnostic: AM0PR01MB1234:EE_|DB9PR01MB5678:EE_",
            f"X-Microsoft-Antispam: BCL:{rng.randint(0, 9)};ARA:13230040|1800799024|366016|"
            "376014|69100299015|8096899003;",
            f"X-Microsoft-Antispam-Message-Info:\n\t{self._folded(rng.randint(900, 2400))}",
            "X-Forefront-Antispam-Report: CIP:198.51.100.7;CTRY:DE;LANG:en;SCL:1;SRV:;"
            f"IPV:NLI;SFV:NSPM;H:mx.{domain};PTR:mx.{domain};CAT:NONE;"
            "SFS:(13230040)(1800799024)(366016)(376014)(69100299015)(8096899003);DIR:INB;",
            "X-MS-Exchange-CrossTenant-OriginalArrivalTime: "
            f"{rng.randint(1, 28):02d} Jan 2025 10:{rng.randint(10, 59)}:00.0000 (UTC)",
            "X-MS-Exchange-CrossTenant-FromEntityHeader: Internet",
            f"X-MS-Exchange-CrossTenant-Id: {self._hex(4)}-{self._hex(2)}-{self._hex(2)}-"
            f"{self._hex(2)}-{self._hex(6)}",
            "X-MS-Exchange-Transport-CrossTenantHeadersStamped: DB9PR01MB5678",
            "X-MS-Exchange-Transport-EndToEndLatency: 00:00:01.2345678",
            f"X-MS-Exchange-Processed-By-BccFoldering: 15.20.{rng.randint(1000, 9999)}.000",
        ]

    def _envelope(
        self,
        *,
        at: float,
        sender: str,
        sender_domain: str,
        incoming: bool,
        headers: list[str],
        body: _Part,
    ) -> bytes:
        top: list[str] = []
        if incoming:
            top.append(f"Return-Path: <{sender}>")
            top.append(f"Delivered-To: {self.user.address}")
            top.extend(self._received(at, sender_domain))
            if self.rng.random() < 0.85:
                top.extend(self._dkim(sender_domain, at))
            route = self.rng.random()
            if route < 0.35:
                top.extend(self._arc(sender_domain, at))
            elif route < 0.6:
                top.extend(self._exchange(sender_domain))
        top.extend(headers)
        top.append("MIME-Version: 1.0")
        top.extend(body.headers)
        text = "\n".join(top) + "\n\n" + body.body
        return text.encode("utf-8")

    # -- mail kinds ------------------------------------------------------------------------

    def _conversation(self, at: float) -> tuple[Mail, bool, bool]:
        rng = self.rng
        self.threads = [t for t in self.threads if at - t.last_at < 21 * 86400]
        thread: _Thread | None = None
        if self.threads and rng.random() < 0.6:
            thread = self.threads[-1 - min(len(self.threads) - 1, int(rng.expovariate(0.3)))]
            if len(thread.ids) >= 30:
                thread = None
        if thread is None:
            first = self._contact()
            people = [first] + ([self._contact()] if rng.random() < 0.25 else [])
            locale = first.locale
            if locale != "en" and rng.random() < 0.6:
                subject = rng.choice(_FOREIGN_SUBJECTS[locale])
            else:
                subject = rng.choice(_SUBJECTS).format(
                    p=rng.choice(_PROJECTS), t=rng.choice(_TIMES)
                )
            charset = "iso-8859-1" if locale in _LATIN1 and rng.random() < 0.12 else "utf-8"
            thread = _Thread(subject, people, [], "", first, at, locale, charset)
            self.threads.append(thread)
            author = first if rng.random() < 0.9 else self.user
        elif thread.last_from == self.user:
            author = rng.choice(thread.people)
        else:
            others = [p for p in thread.people if p != thread.last_from]
            author = self.user if rng.random() < 0.3 or not others else rng.choice(others)
        recipients = [p for p in [self.user, *thread.people] if p != author]
        reply = bool(thread.ids)
        subject = ("Re: " if reply else "") + thread.subject
        domain = author.address.split("@", 1)[1]
        message_id = self._message_id(domain)
        own = self._paragraphs(thread.locale if author != self.user else "en", rng.randint(1, 4))
        greeting = f"Hi {recipients[0].name.split(' ')[0]},\n\n" if rng.random() < 0.7 else ""
        signature = (
            f"\n\n-- \n{author.name}\n{rng.choice(_ROLES)}\n+1 555 01{rng.randint(10, 99)}"
            if rng.random() < 0.5
            else f"\n\nBest,\n{author.name.split(' ')[0]}"
        )
        flowed = rng.random() < 0.3
        written = greeting + own + signature
        text = _flowed(written) if flowed else _wrap(written)
        if reply and rng.random() < 0.85:
            # The whole previous message, its own quotes included (cut, as clients do not).
            quoted = "\n".join(
                ">" + (line if line.startswith(">") else " " + line) if line else ">"
                for line in thread.last_text[:6000].split("\n")
            )
            when = datetime.fromtimestamp(thread.last_at, UTC).strftime("%a, %b %d, %Y at %H:%M")
            text += f"\n\nOn {when}, {thread.last_from.name} <{thread.last_from.address}> wrote:\n"
            text += quoted
        thread.last_text = text
        headers = [
            f"Message-ID: {message_id}",
            f"Date: {self._date(at, author)}",
            f"From: {_address(author, thread.charset, rng.choice('BQ'))}",
            "To: " + ", ".join(_address(p, thread.charset, "B") for p in recipients[:1]),
        ]
        if len(recipients) > 1:
            headers.append(
                "Cc: " + ", ".join(_address(p, thread.charset, "B") for p in recipients[1:])
            )
        headers.append(f"Subject: {_encode_header(subject, thread.charset, rng.choice('BQ'))}")
        if reply:
            headers.append(f"In-Reply-To: {thread.ids[-1]}")
            refs = thread.ids[-10:]
            headers.append("References: " + "\n ".join(refs))
        headers.append(
            rng.choice(
                [
                    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 "
                    "Thunderbird/115.6.0",
                    "X-Mailer: Apple Mail (2.3774.300.61.1.2)",
                    "X-Mailer: Microsoft Outlook 16.0",
                    "User-Agent: K-9 Mail for Android",
                ]
            )
        )
        quirk = rng.random() < 0.01
        if quirk and not _is_ascii(subject):  # a raw 8-bit subject, as some mailers send
            headers = [
                h if not h.startswith("Subject:") else f"Subject: {subject}" for h in headers
            ]
        if quirk and rng.random() < 0.5:
            headers = [h for h in headers if not h.startswith("Message-ID:")]
        charset = thread.charset if not quirk else "utf8"
        non_ascii = not (_is_ascii(text) and _is_ascii(subject) and _is_ascii(author.name))
        encoding = rng.choices(["8bit", "quoted-printable", "base64"], [0.25, 0.6, 0.15])[0]
        if not non_ascii and rng.random() < 0.5:
            encoding = "7bit"
        plain = _text_part(text, subtype="plain", charset=charset, encoding=encoding, flowed=flowed)
        if rng.random() < 0.45:  # Gmail, Outlook and Apple Mail send an HTML copy too
            html = self._conversation_html(text)
            body = _multipart(
                "alternative",
                [
                    plain,
                    _text_part(html, subtype="html", charset=charset, encoding="quoted-printable"),
                ],
                self._boundary(),
            )
        else:
            body = plain
        thread.ids.append(message_id)
        thread.last_from = author
        thread.last_at = at
        incoming = author != self.user
        raw = self._envelope(
            at=at,
            sender=author.address,
            sender_domain=domain,
            incoming=incoming,
            headers=headers,
            body=body,
        )
        folder = INBOX if incoming else SENT
        flags = self._flags(at, incoming)
        return Mail(folder, "conversation", raw, at, flags), non_ascii, reply

    def _conversation_html(self, text: str) -> str:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split("\n\n")
        outlook = self.rng.random() < 0.5
        blocks = []
        for block in escaped:
            if block.startswith("&gt;"):
                inner = block.replace("\n", "<br>\n")
                blocks.append(
                    '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;'
                    f'border-left:1px #ccc solid;padding-left:1ex">{inner}</blockquote>'
                )
            elif outlook:
                inner = block.replace(
                    "\n",
                    "<o:p></o:p></span></p>\n<p class=MsoNormal><span "
                    "lang=EN-US style='font-size:11.0pt'>",
                )
                blocks.append(
                    f"<p class=MsoNormal><span lang=EN-US style='font-size:11.0pt'>{inner}"
                    "<o:p></o:p></span></p>"
                )
            else:
                blocks.append(f'<div dir="ltr">{block.replace(chr(10), "<br>")}</div>')
        if outlook:
            head = _OUTLOOK_HEAD
            return (
                f"{head}<div class=WordSection1>\n" + "\n".join(blocks) + "\n</div></body></html>\n"
            )
        return (
            '<html><head><meta charset="utf-8"></head><body>\n'
            + "\n".join(blocks)
            + "\n</body></html>\n"
        )

    def _boundary(self) -> str:
        return f"=_{self._hex(12)}"

    def _flags(self, at: float, incoming: bool) -> str:
        rng = self.rng
        if not incoming:
            return "S"
        age_days = (self.end - at) / 86400
        letters = set()
        unread_chance = 0.45 if age_days < 7 else 0.08
        if rng.random() > unread_chance:
            letters.add("S")
        if rng.random() < 0.05:
            letters.add("F")
        if rng.random() < 0.12:
            letters.add("R")
        return "".join(sorted(letters))

    def _newsletter(self, at: float) -> Mail:
        rng = self.rng
        sender = rng.choice(_NEWSLETTERS)
        target = int(min(60_000, max(10_000, rng.lognormvariate(10.05, 0.45))))
        title = rng.choice(_ARTICLE_TITLES)
        subject = f"{title} | {sender.name}"
        track = f"https://click.{sender.domain}/ls/click?upn="
        css = (
            '<style type="text/css">\nbody{margin:0;padding:0;background:#f4f4f4}'
            "table{border-collapse:collapse}td{font-family:Helvetica,Arial,sans-serif;"
            "font-size:16px;line-height:24px;color:#333}.btn a{background:#0a66c2;color:#fff;"
            "padding:12px 24px;border-radius:4px;text-decoration:none}"
            "@media only screen and (max-width:600px){.wrap{width:100%!important}"
            ".col{display:block!important;width:100%!important}}\n</style>"
        )
        head = (
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" '
            'content="text/html; charset=utf-8"><meta name="viewport" '
            f'content="width=device-width"><title>{subject}</title>\n{css}</head>\n'
            '<body><table role="presentation" width="100%" bgcolor="#f4f4f4"><tr>'
            '<td align="center">'
            '<table class="wrap" width="600" bgcolor="#ffffff">\n'
        )
        parts = [head]
        texts = [f"{sender.name}\n{title}\n\nView in your browser: {track}{self._token(60)}\n"]
        size = len(head)
        while size < target:
            heading = rng.choice(_ARTICLE_TITLES)
            para = " ".join(rng.choice(self.sentences) for _ in range(rng.randint(3, 6)))
            link = track + self._token(rng.randint(90, 180))
            image = f"https://img.{sender.domain}/im/{self._hex(16)}.jpg"
            block = (
                '<tr><td class="col" style="padding:24px 32px;border-bottom:1px solid #eee">'
                f'<a href="{link}" target="_blank"><img src="{image}" width="536" alt="" '
                'style="display:block;width:100%;max-width:536px;height:auto;border:0"></a>\n'
                '<h2 style="font-size:22px;line-height:28px;margin:16px 0 8px;color:#111">'
                f'{heading}</h2>\n<p style="margin:0 0 16px">{para}</p>\n'
                f'<table role="presentation"><tr><td class="btn"><a href="{link}" '
                f'style="color:#fff;text-decoration:none">Read more</a></td></tr></table>'
                "</td></tr>\n"
            )
            parts.append(block)
            texts.append(f"{heading}\n{para}\nRead more: {link}\n")
            size += len(block)
        unsubscribe = f"https://{sender.domain}/u/{self._token(40)}"
        pixel = f"https://open.{sender.domain}/o/{self._token(48)}.gif"
        parts.append(
            '<tr><td style="padding:24px;font-size:12px;color:#888" align="center">'
            f"You receive this because you subscribed at {sender.domain}. "
            f'<a href="{unsubscribe}">Unsubscribe</a> · <a href="{track}{self._token(60)}">'
            f'Preferences</a></td></tr>\n</table></td></tr></table>\n<img src="{pixel}" width="1" '
            'height="1" alt="" style="display:none"></body></html>\n'
        )
        texts.append(f"Unsubscribe: {unsubscribe}\n")
        html = "".join(parts)
        charset = "utf-8"
        html_encoding = "quoted-printable" if rng.random() < 0.7 else "base64"
        body = _multipart(
            "alternative",
            [
                _text_part(
                    "\n".join(texts), subtype="plain", charset=charset, encoding="quoted-printable"
                ),
                _text_part(html, subtype="html", charset=charset, encoding=html_encoding),
            ],
            self._boundary(),
        )
        headers = [
            f"Message-ID: {self._message_id(sender.domain)}",
            f"Date: {format_datetime(datetime.fromtimestamp(at, UTC))}",
            f"From: {_encode_header(sender.name, 'utf-8', 'Q')} <{sender.address}>",
            f"To: {self.user.address}",
            f"Subject: {_encode_header(subject, 'utf-8', rng.choice('BQ'))}",
            f"List-Id: {sender.name.encode('ascii', 'replace').decode()} "
            f"<{sender.list_id}.{sender.domain}>",
            f"List-Unsubscribe: <{unsubscribe}>, <mailto:unsubscribe@{sender.domain}?subject=u>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: bulk",
            f"X-Campaign-Id: {self._hex(8)}",
            f"Feedback-ID: {rng.randint(10, 99)}:{sender.list_id}:mailer",
        ]
        raw = self._envelope(
            at=at,
            sender=f"bounce-{self._hex(6)}@{sender.domain}",
            sender_domain=sender.domain,
            incoming=True,
            headers=headers,
            body=body,
        )
        return Mail(INBOX, "newsletter", raw, at, self._flags(at, True))

    def _notification(self, at: float) -> tuple[Mail, bool, bool]:
        rng = self.rng
        flavour = rng.choices(
            ["review", "shipping", "security", "receipt", "calendar", "alert"],
            [0.4, 0.14, 0.08, 0.18, 0.1, 0.1],
        )[0]
        domain = {
            "review": "git.example.com",
            "shipping": "parcel.example.net",
            "security": "accounts.example.com",
            "receipt": "store.example.com",
            "calendar": "calendar.example.org",
            "alert": "bank.example.net",
        }[flavour]
        headers: list[str] = []
        reply = False
        extra_parts: list[_Part] = []
        if flavour == "review":
            threads = self.notify_threads.setdefault(flavour, [])
            threads[:] = [t for t in threads if at - t.last_at < 30 * 86400]
            if threads and rng.random() < 0.65:
                nthread = rng.choice(threads)
            else:
                number = rng.randint(100, 9999)
                what = rng.choice(["Fix", "Add", "Remove", "Refactor", "Document", "Speed up"])
                nthread = _NotifyThread(
                    f"[acme/widgets] {what} {rng.choice(_PROJECTS).replace('the ', '')} "
                    f"handling (PR #{number})",
                    [],
                    at,
                )
                threads.append(nthread)
            actor = self._contact()
            subject = ("Re: " if nthread.ids else "") + nthread.subject
            text = (
                f"@{actor.address.split('@')[0]} commented on this pull request.\n\n"
                + self._paragraphs("en", rng.randint(1, 2))
                + f"\n\n—\nReply to this email directly, view it on Git: "
                f"https://git.example.com/acme/widgets/pull/{rng.randint(100, 9999)}"
                f"#issuecomment-{rng.randint(10**8, 10**9)}\nYou are receiving this because "
                "you were mentioned.\n"
            )
            sender_name = actor.name
            sender = "notifications@git.example.com"
            message_id = (
                f"<acme/widgets/pull/{rng.randint(100, 9999)}/c{rng.randint(10**8, 10**9)}"
                "@git.example.com>"
            )
            if nthread.ids:
                reply = True
                headers += [f"In-Reply-To: {nthread.ids[0]}", f"References: {nthread.ids[0]}"]
            nthread.ids.append(message_id)
            nthread.last_at = at
            headers += [
                "List-ID: acme/widgets <widgets.acme.git.example.com>",
                "X-Git-Reason: mention",
                f"List-Unsubscribe: <https://git.example.com/notifications/unsubscribe/{self._token(40)}>",
            ]
        else:
            sender_name = {
                "shipping": "Parcel Service",
                "security": "Account Security",
                "receipt": "Store Orders",
                "calendar": "Calendar",
                "alert": "Banque Exemple",
            }[flavour]
            sender = f"no-reply@{domain}"
            message_id = self._message_id(domain)
            order = rng.randint(10**6, 10**7)
            subject, text = {
                "shipping": (
                    f"Your parcel {order} is out for delivery",
                    f"Good news! Your parcel {order} will arrive today between 10:00 and 14:00.\n"
                    f"Track it: https://parcel.example.net/t/{self._token(24)}\n",
                ),
                "security": (
                    "Security alert: new sign-in",
                    "We noticed a new sign-in to your account from Firefox on Linux.\n"
                    "If this was you, there is nothing to do. Otherwise, secure your account:\n"
                    f"https://accounts.example.com/secure/{self._token(32)}\n",
                ),
                "receipt": (
                    f"Your order #{order} — receipt",
                    f"Thank you for your order #{order}.\n\n"
                    + "".join(
                        f"{rng.choice(['Notebook', 'Cable', 'Lamp', 'Mug', 'Backpack'])}  "
                        f"{rng.randint(1, 3)} x {rng.randint(3, 90)}.{rng.randint(10, 99)} €\n"
                        for _ in range(rng.randint(1, 6))
                    ),
                ),
                "calendar": (
                    f"Invitation: {rng.choice(_PROJECTS).capitalize()} sync @ "
                    f"{datetime.fromtimestamp(at + 86400 * 3, UTC):%a %b %d, %Y}",
                    "You have been invited to an event.\n\n" + self._paragraphs("en", 1) + "\n",
                ),
                "alert": (
                    "Débit de votre compte — relevé disponible",
                    "Bonjour,\n\nUn nouveau relevé est disponible dans votre espace client. "
                    f"Montant débité : {rng.randint(5, 900)},{rng.randint(10, 99)} €.\n\n"
                    "Cordialement,\nVotre banque\n",
                ),
            }[flavour]
            if flavour == "calendar":
                start = datetime.fromtimestamp(at + 86400 * 3, UTC)
                ics = (
                    "BEGIN:VCALENDAR\nPRODID:-//Example//Calendar//EN\nVERSION:2.0\n"
                    "METHOD:REQUEST\nBEGIN:VEVENT\n"
                    f"DTSTART:{start:%Y%m%dT%H%M%SZ}\n"
                    f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\n"
                    f"UID:{self._hex(16)}@calendar.example.org\nSUMMARY:{subject}\n"
                    f"ORGANIZER;CN={self._contact().name}:mailto:{self._contact().address}\n"
                    f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:{self.user.address}\n"
                    "END:VEVENT\nEND:VCALENDAR\n"
                )
                extra_parts.append(
                    _Part(
                        [
                            'Content-Type: text/calendar; charset="UTF-8"; method=REQUEST',
                            "Content-Transfer-Encoding: base64",
                        ],
                        _b64_lines(ics.encode()),
                    )
                )
        html = self._notification_html(subject, text, domain)
        encoding = rng.choice(["quoted-printable", "base64", "base64"])
        parts = [
            _text_part(text, subtype="plain", charset="utf-8", encoding=encoding),
            _text_part(html, subtype="html", charset="utf-8", encoding=encoding),
            *extra_parts,
        ]
        body = _multipart("alternative", parts, self._boundary())
        headers = [
            f"Message-ID: {message_id}",
            f"Date: {format_datetime(datetime.fromtimestamp(at, UTC))}",
            f"From: {_encode_header(sender_name, 'utf-8', 'B')} <{sender}>",
            f"To: {_address(self.user, 'utf-8', 'B')}",
            f"Subject: {_encode_header(subject, 'utf-8', rng.choice('BQ'))}",
            *headers,
            "Auto-Submitted: auto-generated",
        ]
        raw = self._envelope(
            at=at, sender=sender, sender_domain=domain, incoming=True, headers=headers, body=body
        )
        non_ascii = not (_is_ascii(subject) and _is_ascii(text))
        return Mail(INBOX, "notification", raw, at, self._flags(at, True)), non_ascii, reply

    def _notification_html(self, subject: str, text: str, domain: str) -> str:
        lines = "".join(
            f'<p style="margin:0 0 12px;font-size:14px;color:#24292f">{line}</p>\n'
            for line in text.replace("&", "&amp;").replace("<", "&lt;").split("\n")
            if line
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{subject.replace('<', '&lt;')}</title></head>"
            '<body style="margin:0;padding:0;background:#ffffff">\n'
            '<table width="100%" cellpadding="0" cellspacing="0"><tr><td style="padding:16px '
            'font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Helvetica,Arial,sans-serif">\n'
            f'<img src="https://{domain}/static/logo.png" width="120" alt="">\n{lines}'
            f'<p style="font-size:12px;color:#57606a">— <a href="https://{domain}/settings/'
            f'notifications">Notification settings</a></p>\n'
            f'<img src="https://{domain}/open/{self._token(30)}.gif" width="1" height="1" alt="">'
            "</td></tr></table></body></html>\n"
        )

    def _payload(self, kind: str) -> tuple[bytes, str, str]:
        """Attachment bytes of a realistic size and shape, with a type and a file name."""
        rng = self.rng
        if kind == "pdf":
            size = int(min(300_000, max(20_000, rng.lognormvariate(11.1, 0.7))))
            head = (
                b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            )
            body = head + b"4 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n" % size
            data = body + rng.randbytes(size) + b"\nendstream\nendobj\n%%EOF\n"
            name = rng.choice(
                [
                    f"Invoice-{rng.randint(2023, 2025)}-{rng.randint(1, 9999):04d}.pdf",
                    "Quarterly report.pdf",
                    "Contract_signed.pdf",
                    "Präsentation März.pdf",
                    "Résumé.pdf",
                    f"scan_{rng.randint(10**5, 10**6)}.pdf",
                ]
            )
            return data, "application/pdf", name
        if kind == "jpeg":
            size = int(min(400_000, max(30_000, rng.lognormvariate(11.5, 0.6))))
            data = (
                b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00H\x00H\x00\x00"
                + rng.randbytes(size)
                + b"\xff\xd9"
            )
            return data, "image/jpeg", f"IMG_{rng.randint(1000, 9999)}.JPG"
        if kind == "png":
            size = int(min(250_000, max(8_000, rng.lognormvariate(10.5, 0.8))))
            data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(size)
            return (
                data,
                "image/png",
                rng.choice(["screenshot.png", "Bildschirmfoto.png", "diagram.png"]),
            )
        size = int(min(150_000, max(12_000, rng.lognormvariate(10.4, 0.6))))
        data = b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + rng.randbytes(size)
        if rng.random() < 0.5:
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return data, ctype, rng.choice(["Budget 2025.xlsx", "figures.xlsx", "Übersicht.xlsx"])
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        return data, ctype, rng.choice(["Draft v3.docx", "minutes.docx", "Compte rendu.docx"])

    def _attachment(self, at: float) -> tuple[Mail, bool, bool]:
        mail, non_ascii, reply = self._conversation(at)
        rng = self.rng
        raw = mail.raw
        split = raw.index(b"\n\n")
        head, body = raw[:split].decode("utf-8"), raw[split + 2 :].decode("utf-8")
        # Lift the body's own Content-* headers into a part of a multipart/mixed.
        lines = head.split("\n")
        content_start = next(i for i, line in enumerate(lines) if line.startswith("Content-Type:"))
        outer = lines[:content_start]
        inner = _Part(lines[content_start:], body)
        parts = [inner]
        names = []
        for _ in range(1 if rng.random() < 0.75 else rng.randint(2, 3)):
            kind = rng.choices(["pdf", "jpeg", "png", "office"], [0.45, 0.3, 0.1, 0.15])[0]
            data, ctype, name = self._payload(kind)
            names.append(name)
            parts.append(_binary_part(data, ctype, name, rfc2231=rng.random() < 0.6))
        if rng.random() < 0.25:  # a signature logo, sent inline (Apple Mail, Outlook)
            logo = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(rng.randint(3000, 12000))
            parts.append(
                _binary_part(
                    logo,
                    "image/png",
                    "image001.png",
                    inline=True,
                    content_id=f"image001.png@01DA{self._hex(4).upper()}",
                )
            )
        mixed = _multipart("mixed", parts, self._boundary())
        if outer and outer[-1] == "MIME-Version: 1.0":
            outer = outer[:-1]
        raw = (
            "\n".join([*outer, "MIME-Version: 1.0", *mixed.headers]) + "\n\n" + mixed.body
        ).encode()
        non_ascii = non_ascii or not all(_is_ascii(n) for n in names)
        return Mail(mail.folder, "attachment", raw, at, mail.flags), non_ascii, reply

    # -- the stream ------------------------------------------------------------------------

    def mails(
        self, count: int, *, inbox_only: bool = False, stats: CorpusStats | None = None
    ) -> Iterator[Mail]:
        """`count` messages, oldest first. `inbox_only`: every message goes to INBOX."""
        rng = self.rng
        moments = sorted(self.end - rng.random() * self.span_s for _ in range(count))
        for at in moments:
            pick = bisect.bisect_left(_CUM_WEIGHTS, rng.random() * _CUM_WEIGHTS[-1])
            kind = KINDS[min(pick, len(KINDS) - 1)]
            attachments = False
            if kind == "conversation":
                mail, non_ascii, reply = self._conversation(at)
            elif kind == "attachment":
                mail, non_ascii, reply = self._attachment(at)
                attachments = True
            elif kind == "newsletter":
                mail, non_ascii, reply = self._newsletter(at), False, False
            else:
                mail, non_ascii, reply = self._notification(at)
            folder = mail.folder
            if inbox_only:
                folder = INBOX
            elif folder == INBOX and self.end - at > 180 * 86400 and rng.random() < 0.2:
                folder = ARCHIVE
            if folder != mail.folder:
                mail = Mail(folder, mail.kind, mail.raw, mail.received, mail.flags)
            if stats is not None:
                stats.add(mail, non_ascii=non_ascii, reply=reply, attachments=attachments)
            yield mail


# --- writing a Maildir --------------------------------------------------------------------------


def folder_path(maildir: Path, folder: str) -> Path:
    """Maildir++ on disk: INBOX is the Maildir itself, "Sent" is ".Sent"."""
    return maildir if folder == INBOX else maildir / f".{folder}"


def _make_folder(path: Path, owner: tuple[int, int] | None, *, sub: bool) -> None:
    for name in ("cur", "new", "tmp"):
        (path / name).mkdir(parents=True, exist_ok=True)
    if sub:
        (path / "maildirfolder").touch()
    if owner is not None:
        for item in (path, path / "cur", path / "new", path / "tmp"):
            os.chown(item, *owner)
        if sub:
            os.chown(path / "maildirfolder", *owner)


def write_maildir(
    maildir: Path,
    mails: Iterable[Mail],
    *,
    owner: tuple[int, int] | None = None,
    host: str = "postwise-bench",
) -> int:
    """Write each message as `cur/<time>.M<usec>P<n>.<host>,S=<size>,W=<vsize>:2,<flags>`
    with its arrival time as mtime (Dovecot's INTERNALDATE for Maildir). Returns the count.
    `owner` (uid, gid) is given to every file and folder (Dovecot runs mail as that user)."""
    chown = owner is not None and owner != (os.getuid(), os.getgid())
    own = owner if chown else None
    maildir.mkdir(parents=True, exist_ok=True)
    for parent in (maildir.parent, maildir):
        if own is not None:
            os.chown(parent, *own)
    made: set[str] = set()
    count = 0
    for mail in mails:
        path = folder_path(maildir, mail.folder)
        if mail.folder not in made:
            _make_folder(path, own, sub=mail.folder != INBOX)
            made.add(mail.folder)
        seconds = int(mail.received)
        usec = int((mail.received - seconds) * 1e6)
        vsize = len(mail.raw) + mail.raw.count(b"\n")
        name = f"{seconds}.M{usec}P{count}.{host},S={len(mail.raw)},W={vsize}:2,{mail.flags}"
        target = path / "cur" / name
        with open(target, "xb") as handle:
            handle.write(mail.raw)
            if own is not None:
                os.fchown(handle.fileno(), *own)
        os.utime(target, (mail.received, mail.received))
        count += 1
    for folder in (INBOX, SENT, ARCHIVE):
        if folder not in made:
            _make_folder(folder_path(maildir, folder), own, sub=folder != INBOX)
    return count


def generate(
    maildir: Path,
    count: int,
    *,
    seed: int,
    owner: tuple[int, int] | None = None,
    inbox_only: bool = False,
    end: datetime | None = None,
) -> CorpusStats:
    stats = CorpusStats()
    corpus = Corpus(seed, end=end)
    write_maildir(maildir, corpus.mails(count, inbox_only=inbox_only, stats=stats), owner=owner)
    return stats
