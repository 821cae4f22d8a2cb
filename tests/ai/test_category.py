"""The category model: header rules first, the shipped seed model, and `CategoryModel.fit` on
any labels (what `postwise eval category --train` uses)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from postwise.ai.local import category
from postwise.ai.local.category import CategoryModel, classify, load_seed
from postwise.ai.local.signals import header_signals
from postwise.ai.mailview import MailView
from postwise.ai.results import Category
from postwise.mime.parse import parse_message

DATA = Path(__file__).parent / "data"
ME = "sam@harbor.example"


def mail(
    subject: str, text: str, sender: str = "Dana Reyes <dana.reyes@gmail.com>", **changes: object
) -> MailView:
    name, _, address = sender.partition(" <")
    fields: dict[str, object] = {
        "subject": subject,
        "from_name": name,
        "from_address": address.rstrip(">"),
        "text": text,
        "to": (ME,),
        "user_addresses": frozenset({ME}),
    }
    fields.update(changes)
    return MailView(**fields)  # type: ignore[arg-type]


def test_the_seed_corpus_covers_every_category() -> None:
    seed = load_seed()
    counts = Counter(example.category for example in seed)
    assert set(counts) == {c.value for c in Category}
    assert len(seed) >= 400
    assert min(counts.values()) >= 30
    assert sum(example.needs_reply for example in seed) >= 80


def test_the_dev_sets_share_no_message_with_the_seed() -> None:
    seed = {(e.mail.subject.strip(), e.mail.text.strip()[:80]) for e in load_seed()}
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            parsed = parse_message(json.loads(line)["message"].encode())
            assert (parsed.subject.strip(), parsed.text.strip()[:80]) not in seed, path.name


def test_the_shipped_model_trains_deterministically() -> None:
    # Its speed is measured in bench/ai (make bench-ai), not here.
    examples = [(e.mail, e.category) for e in load_seed()]
    first = CategoryModel.fit(examples)
    second = CategoryModel.fit(examples)
    probe = examples[7][0]
    assert first.probabilities(probe) == second.probabilities(probe)


def test_fast_scoring_matches_scikit_learn() -> None:
    model = category.default_model()._model
    for example in load_seed()[::25]:
        docs = category.category_docs(example.mail)
        fast = model.probabilities(docs)
        reference = model.reference_probabilities(docs)
        assert fast.keys() == reference.keys()
        for label in fast:
            assert fast[label] == pytest.approx(reference[label], abs=1e-9)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            mail("dinner saturday?", "Are you free Saturday? Mum is making lasagne, come by at 7."),
            Category.PERSONAL,
        ),
        (
            mail(
                "Q4 forecast",
                "Hi Sam, can you update the Q4 revenue forecast with the new pipeline numbers "
                "before the leadership meeting on Thursday?",
                "Ines Duarte <ines.duarte@harbor.example>",
            ),
            Category.WORK,
        ),
        (
            mail(
                "Weekly digest #120",
                "In this issue: five articles on distributed systems, a talk worth watching and "
                "the best links of the week. Thanks for reading.",
                "Systems Weekly <editor@systemsweekly.example>",
                list_unsubscribe="<https://systemsweekly.example/u>",
            ),
            Category.NEWSLETTER,
        ),
        (
            mail(
                "Your password was changed",
                "The password for your account was changed. If this wasn't you, reset it now.",
                "Acme Accounts <no-reply@accounts.acme.example>",
            ),
            Category.NOTIFICATION,
        ),
        (
            mail(
                "48 hours only: 30% off everything",
                "Our winter sale is on. Take 30% off sitewide with code SNOW30. Shop now!",
                "Acme Outfitters <deals@acme-outfitters.example>",
                list_unsubscribe="<https://acme-outfitters.example/u>",
            ),
            Category.PROMOTION,
        ),
        (
            mail(
                "Your receipt #4411",
                "Thanks for your purchase. Total charged: $42.00 to Visa ending 1234. Order #4411.",
                "Acme Store <receipts@acme-store.example>",
            ),
            Category.RECEIPT,
        ),
        (
            mail(
                "Lee commented on your photo",
                "Lee Park commented on your photo: 'amazing view!' See the comment.",
                "Photogram <notification@photogram.example>",
                list_unsubscribe="<https://photogram.example/u>",
            ),
            Category.SOCIAL,
        ),
        (
            mail(
                "Quick question about Harbor's hiring",
                "Hi Sam, I noticed Harbor is hiring engineers. We help companies like yours hire "
                "vetted developers in two weeks. Open to a 15-minute call next week?",
                "Brad Keller <brad@talentrocket.example>",
            ),
            Category.COLD_OUTREACH,
        ),
    ],
    ids=lambda value: value.value if isinstance(value, Category) else None,
)
def test_clear_cases(message: MailView, expected: Category) -> None:
    found, confidence = classify(message)
    assert found is expected
    assert 0.0 < confidence <= 1.0


def test_a_calendar_part_settles_it() -> None:
    invite = mail("Lunch?", "Are you free for lunch on Friday?", has_calendar=True)
    assert classify(invite) == (Category.CALENDAR, 0.97)


def test_headers_narrow_the_choice() -> None:
    # Reads like a note from a friend, but a no-reply address sent it: a machine did.
    note = mail(
        "miss you", "Hope you're well, we should catch up soon!", "Friends <no-reply@app.example>"
    )
    assert classify(note)[0] not in {Category.PERSONAL, Category.WORK, Category.COLD_OUTREACH}
    bulk = header_signals(mail("x", "y", list_unsubscribe="<https://u.example>"))
    allowed = category.allowed_categories(bulk)
    assert allowed is not None
    assert Category.COLD_OUTREACH in allowed and Category.PERSONAL not in allowed
    # A List-Id alone proves little: families and teams write to lists too.
    assert (
        category.allowed_categories(header_signals(mail("x", "y", list_id="fam.example"))) is None
    )


def test_probabilities_sum_to_one_after_narrowing() -> None:
    message = mail("Sale", "Everything 20% off", auto_submitted="auto-generated")
    found = category.probabilities(message)
    assert sum(found.values()) == pytest.approx(1.0)
    assert "personal" not in found


def test_fit_accepts_any_label_names() -> None:
    family = mail("sunday", "Grandma wants everyone over for lunch on Sunday, bring the kids.")
    job = mail(
        "deploy",
        "The release is blocked on the failing migration, can you look?",
        "A <a@b.example>",
    )
    ads = mail("SALE", "Huge savings, 50% off today only, shop now", "Shop <deals@shop.example>")
    examples = [(family, "Family 🏡"), (job, "job"), (ads, "ads")] * 3
    model = CategoryModel.fit(examples)
    assert sorted(model.labels) == ["Family 🏡", "ads", "job"]
    label, confidence = model.predict(
        mail("lunch", "Grandma says lunch on Sunday at noon, bring the kids!")
    )
    assert label == "Family 🏡"
    assert 1 / 3 < confidence <= 1.0


def test_fit_with_two_labels() -> None:
    yes = mail("invoice", "Please pay the attached invoice by Friday.")
    no = mail("hello", "Great to see you yesterday!")
    model = CategoryModel.fit([(yes, "pay"), (no, "chat")] * 2)
    probabilities = model.probabilities(yes)
    assert set(probabilities) == {"pay", "chat"}
    assert probabilities["pay"] > probabilities["chat"]
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_fit_refuses_a_single_label() -> None:
    with pytest.raises(ValueError, match="two labels"):
        CategoryModel.fit([(mail("a", "b"), "only")])
