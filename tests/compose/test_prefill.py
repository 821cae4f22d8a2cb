"""The reply and forward prefill, rule by rule, without a database (compose.prefill)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from postwise.compose.models import ComposeMode
from postwise.compose.prefill import (
    FORWARD_SEPARATOR,
    MAX_REFERENCES,
    Original,
    Sender,
    build_prefill,
    clean_recipients,
    forward_subject,
    reply_references,
    reply_subject,
)

ME = "me@example.com"
ALIAS = "sales@example.com"
OWN = frozenset({ME, ALIAS})
THREAD = uuid.uuid4()


def addr(address: str, name: str = "") -> dict[str, str]:
    return {"name": name, "address": address}


def original(**fields: object) -> Original:
    values: dict[str, object] = {
        "message_id": "orig-1@mail.example.net",
        "subject": "Plans for Tuesday",
        "from_name": "Ada Lovelace",
        "from_address": "ada@example.net",
        "date": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "text": "Shall we meet?\n\nAda\n",
        "html": None,
        "to": [addr(ME, "Me")],
        "cc": [],
        "reply_to": [],
        "references": ["root@mail.example.net"],
        "thread_id": THREAD,
    }
    values.update(fields)
    return Original(**values)  # type: ignore[arg-type]


def addresses(items: list[dict[str, str]]) -> list[str]:
    return [item["address"] for item in items]


def test_a_reply_goes_to_the_sender_or_to_reply_to() -> None:
    plain = build_prefill(ComposeMode.REPLY, original(), Sender(OWN))
    assert addresses(plain.to) == ["ada@example.net"] and plain.cc == []
    assert plain.to[0]["name"] == "Ada Lovelace"
    listed = build_prefill(
        ComposeMode.REPLY, original(reply_to=[addr("list@lists.example.org")]), Sender(OWN)
    )
    assert addresses(listed.to) == ["list@lists.example.org"]


def test_reply_all_adds_to_and_cc_without_me_and_without_repeats() -> None:
    message = original(
        to=[addr(ME), addr("bob@example.net", "Bob"), addr("Ada@Example.net")],
        cc=[addr(ALIAS.upper()), addr("carol@example.net"), addr("BOB@example.net")],
    )
    prefill = build_prefill(ComposeMode.REPLY_ALL, message, Sender(OWN))
    assert addresses(prefill.to) == ["ada@example.net"]
    # Ada is already in To; Bob twice (two spellings) once; neither of my addresses.
    assert addresses(prefill.cc) == ["bob@example.net", "carol@example.net"]
    # A plain reply never copies anyone.
    assert build_prefill(ComposeMode.REPLY, message, Sender(OWN)).cc == []


def test_replying_to_my_own_message_goes_to_its_recipients() -> None:
    mine = original(
        from_address=ALIAS, to=[addr("bob@example.net")], cc=[addr("carol@example.net")]
    )
    reply = build_prefill(ComposeMode.REPLY, mine, Sender(OWN))
    assert addresses(reply.to) == ["bob@example.net"] and reply.cc == []
    reply_all = build_prefill(ComposeMode.REPLY_ALL, mine, Sender(OWN))
    assert addresses(reply_all.cc) == ["carol@example.net"]


def test_the_answer_is_sent_from_the_address_the_original_was_written_to() -> None:
    to_alias = original(to=[addr("someone@example.net"), addr(ALIAS)])
    assert build_prefill(ComposeMode.REPLY, to_alias, Sender(OWN)).from_address == ALIAS
    assert build_prefill(ComposeMode.REPLY, original(to=[]), Sender(OWN)).from_address is None


@pytest.mark.parametrize(
    ("subject", "reply", "forward"),
    [
        ("Plans", "Re: Plans", "Fwd: Plans"),
        ("Re: Plans", "Re: Plans", "Fwd: Plans"),
        ("RE: Re: Plans", "Re: Plans", "Fwd: Plans"),
        ("Aw: Plans", "Re: Plans", "Fwd: Plans"),
        ("Fwd: Plans", "Re: Plans", "Fwd: Plans"),
        ("FW: re: Plans", "Re: Plans", "Fwd: Plans"),
        ("Re[2]: Plans", "Re: Plans", "Fwd: Plans"),
        ("[dev] Re: Plans", "Re: [dev] Plans", "Fwd: [dev] Plans"),
        ("Regarding: Plans", "Re: Regarding: Plans", "Fwd: Regarding: Plans"),
        ("", "Re:", "Fwd:"),
        ("Line\r\nBcc: evil@example.org", "Re: Line Bcc: evil@example.org", None),
    ],
)
def test_subjects_never_stack_markers(subject: str, reply: str, forward: str | None) -> None:
    assert reply_subject(subject) == reply
    if forward is not None:
        assert forward_subject(subject) == forward


def test_threading_headers() -> None:
    prefill = build_prefill(ComposeMode.REPLY, original(), Sender(OWN))
    assert prefill.in_reply_to == "orig-1@mail.example.net"
    assert prefill.references == ["root@mail.example.net", "orig-1@mail.example.net"]
    assert prefill.thread_id == THREAD
    # Repeats keep their last place; a long chain keeps its root and its newest ones.
    repeated = original(references=["a@x", "b@x", "a@x", "orig-1@mail.example.net"])
    assert reply_references(repeated) == ["b@x", "a@x", "orig-1@mail.example.net"]
    long = original(references=[f"{n}@x" for n in range(40)])
    chain = reply_references(long)
    assert len(chain) == MAX_REFERENCES
    assert chain[0] == "0@x"
    assert chain[-2:] == ["39@x", "orig-1@mail.example.net"]
    # Without a Message-ID there is nothing to answer in the headers.
    assert (
        build_prefill(ComposeMode.REPLY, original(message_id=None), Sender(OWN)).in_reply_to is None
    )


def test_the_quote_has_the_signature_above_it() -> None:
    sender = Sender(OWN, signature_text="Me\nExample Ltd", signature_html="<b>Me</b>")
    prefill = build_prefill(ComposeMode.REPLY, original(), sender)
    text = prefill.text
    attribution = "On Mon, 2 Mar 2026 at 09:30 UTC, Ada Lovelace <ada@example.net> wrote:"
    assert text.index("-- \nMe\nExample Ltd") < text.index(attribution)
    assert text.startswith("\n\n-- \n")
    assert f"{attribution}\n> Shall we meet?\n>\n> Ada\n" in text
    assert prefill.html is not None
    html = prefill.html
    assert html.index("<b>Me</b>") < html.index("wrote:") < html.index('<blockquote type="cite">')
    # A plain-text original is quoted escaped, line breaks kept.
    assert '<blockquote type="cite">Shall we meet?<br>\n<br>\nAda</blockquote>' in html


def test_an_html_original_is_quoted_as_html() -> None:
    message = original(html="<p>Shall we <b>meet</b>? &lt;soon&gt;</p>", text="")
    prefill = build_prefill(ComposeMode.REPLY, message, Sender(OWN))
    assert prefill.html is not None
    assert '<blockquote type="cite"><p>Shall we <b>meet</b>? &lt;soon&gt;</p></blockquote>' in (
        prefill.html
    )
    # With no text part, the text quote is made from the HTML.
    assert "> Shall we meet? <soon>" in prefill.text
    # Without a signature nothing stands between the room to write and the quote.
    assert "-- " not in prefill.text


def test_a_forward_carries_the_headers_block_and_the_body() -> None:
    message = original(
        subject="Re: Plans",
        to=[addr(ME, "Me"), addr("bob@example.net")],
        cc=[addr("carol@example.net", "Carol")],
        html="<p>Shall we meet?</p>",
    )
    prefill = build_prefill(ComposeMode.FORWARD, message, Sender(OWN, signature_text="Me"))
    assert prefill.subject == "Fwd: Plans"
    assert prefill.to == [] and prefill.cc == []
    assert prefill.in_reply_to is None
    assert prefill.references == ["orig-1@mail.example.net"]
    assert prefill.thread_id == THREAD
    block = (
        f"{FORWARD_SEPARATOR}\n"
        "From: Ada Lovelace <ada@example.net>\n"
        "Date: Mon, 2 Mar 2026 at 09:30 UTC\n"
        "Subject: Re: Plans\n"
        f"To: Me <{ME}>, bob@example.net\n"
        "Cc: Carol <carol@example.net>\n\n"
        "Shall we meet?"
    )
    assert block in prefill.text
    assert prefill.text.index("-- \nMe") < prefill.text.index(FORWARD_SEPARATOR)
    assert prefill.html is not None
    assert "From: Ada Lovelace &lt;ada@example.net&gt;<br>" in prefill.html
    assert "<p>Shall we meet?</p>" in prefill.html


def test_a_new_message_gets_the_signature_only_when_there_is_one() -> None:
    bare = build_prefill(ComposeMode.NEW, None, Sender(OWN))
    assert (bare.text, bare.html, bare.to, bare.subject) == ("", None, [], "")
    signed = build_prefill(ComposeMode.NEW, None, Sender(OWN, signature_text="Me & co"))
    assert signed.text == "\n\n-- \nMe & co\n"
    assert signed.html == "<p><br></p><div>-- <br>Me &amp; co</div>"


def test_recipients_from_hostile_mail_are_made_safe() -> None:
    cleaned = clean_recipients(
        [
            addr("ok@example.net", "Evil\r\nBcc: x@example.org"),
            addr("undisclosed-recipients:;"),
            addr("not an address"),
            addr("UPPER@Example.NET", "Upper"),
        ]
    )
    assert cleaned == [
        {"name": "Evil Bcc: x@example.org", "address": "ok@example.net"},
        {"name": "Upper", "address": "upper@example.net"},
    ]
