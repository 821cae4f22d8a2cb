"""`postwise eval`: a task run over a labelled set, and its figures.

A dataset is JSON lines, one example a line:
`{"id": "...", "message": "<RFC 822 text>", "expect": {...}}` with `expect` holding
`{"needs_reply": true}`, `{"category": "<any label>"}` or `{"summary_refs": ["...", ...]}`.
The user the message is read for (whose address is "to me") is the line's optional `"user"`
address, else the message's first To address.

Figures: accuracy and precision/recall/F1 per class (scikit-learn's metrics) for
`needs_reply` and `category`, with macro-F1 over the labels the dataset expects for categories,
and "bulk vs personal" accuracy when the labels are Postwise's own; ROUGE-1/2/L F1 (best over
the references, averaged over the examples) for `summary`, next to the baseline: the
message's first sentence cut to ten words.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from postwise.ai.local import category, needs_reply, rouge, summary
from postwise.ai.mailview import MailView, view_of_parsed
from postwise.ai.results import Category, Triage
from postwise.mime.parse import parse_message

if TYPE_CHECKING:
    from postwise.config import Settings

__all__ = ["TASKS", "EvalError", "Example", "evaluate", "load_dataset", "render"]

TASKS = ("needs_reply", "category", "summary")
PROVIDERS = ("local", "openai")
# Postwise's categories on each side of "bulk vs personal"; calendar and cold outreach are
# on neither.
BULK = frozenset({"newsletter", "notification", "promotion", "receipt", "social"})
PERSONAL = frozenset({"personal", "work"})
# Remote calls in flight at once during an eval against an OpenAI-compatible server.
_REMOTE_CONCURRENCY = 4
_EXPECT_KEY = {"needs_reply": "needs_reply", "category": "category", "summary": "summary_refs"}


class EvalError(Exception):
    """A problem with the command line or a dataset, shown to the user as it is."""


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    mail: MailView
    expect: Any  # the `expect` value for the task: bool, label or list of references


# --- datasets -------------------------------------------------------------------------------


def _expected(task: str, expect: object, where: str) -> Any:
    key = _EXPECT_KEY[task]
    if not isinstance(expect, dict) or key not in expect:
        raise EvalError(f'{where}: "expect" has no "{key}" (needed by the {task} task)')
    value = expect[key]
    if task == "needs_reply" and not isinstance(value, bool):
        raise EvalError(f'{where}: "needs_reply" must be true or false')
    if task == "category" and not (isinstance(value, str) and value.strip()):
        raise EvalError(f'{where}: "category" must be a non-empty string')
    if task == "summary" and not (
        isinstance(value, list) and value and all(isinstance(r, str) for r in value)
    ):
        raise EvalError(f'{where}: "summary_refs" must be a non-empty list of strings')
    return value.strip() if isinstance(value, str) else value


def _example(task: str, line: str, where: str) -> Example:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise EvalError(f"{where}: not JSON ({error.msg})") from error
    if not isinstance(row, dict):
        raise EvalError(f"{where}: each line must be a JSON object")
    ident, message, user = row.get("id"), row.get("message"), row.get("user")
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        raise EvalError(f'{where}: "id" must be a string')
    if not isinstance(message, str) or not message.strip():
        raise EvalError(f'{where}: "message" must be the RFC 822 text of a message')
    if user is not None and not isinstance(user, str):
        raise EvalError(f'{where}: "user" must be an address')
    try:  # "\udcXX" escapes stand for raw bytes, as Python writes undecodable input
        raw = message.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates mean nothing
        raw = message.encode("utf-8", "replace")
    parsed = parse_message(raw)
    address = user or (parsed.to[0].address if parsed.to else "")
    mine = frozenset({address.strip().lower()}) if address.strip() else frozenset()
    mail = view_of_parsed(parsed, user_addresses=mine)
    return Example(str(ident), mail, _expected(task, row.get("expect"), where))


def load_dataset(path: Path, *, task: str) -> list[Example]:
    """The examples of a dataset file, checked for `task`; EvalError names the bad line."""
    if task not in TASKS:
        raise EvalError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise EvalError(f"no such file: {path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise EvalError(f"cannot read {path}: {error}") from error
    examples = [
        _example(task, line, f"{path}:{number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not examples:
        raise EvalError(f"{path} holds no examples")
    return examples


# --- predictions ----------------------------------------------------------------------------


async def _remote_triage(settings: Settings, mails: Sequence[MailView]) -> list[Triage]:
    from postwise.ai.providers.openai import ProviderError, provider_from_settings
    from postwise.ai.specs import TRIAGE

    try:
        provider = provider_from_settings(settings)
    except ValueError as error:
        raise EvalError(str(error)) from error
    slots = asyncio.Semaphore(_REMOTE_CONCURRENCY)

    async def one(mail: MailView) -> Triage:
        async with slots:
            return await provider.structured(TRIAGE, [mail])

    try:
        return list(await asyncio.gather(*(one(m) for m in mails)))
    except ProviderError as error:
        raise EvalError(f"the openai provider failed: {error.code} {error}".strip()) from error
    finally:
        await provider.close()


def _predict(
    task: str,
    examples: Sequence[Example],
    *,
    model: category.CategoryModel | None,
    remote: Sequence[Triage] | None,
) -> list[Any]:
    if remote is not None:
        if task == "needs_reply":
            return [t.needs_reply for t in remote]
        if task == "category":
            return [t.category.value for t in remote]
        return [t.summary for t in remote]
    if task == "needs_reply":
        return [needs_reply.needs_reply(e.mail)[0] for e in examples]
    if task == "category":
        if model is not None:
            return [model.predict(e.mail)[0] for e in examples]
        return [category.classify(e.mail)[0].value for e in examples]
    return [summary.one_line(e.mail) for e in examples]


# --- figures --------------------------------------------------------------------------------


def _per_class(expected: list[Any], predicted: list[Any], labels: list[Any]) -> dict[str, Any]:
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=labels, zero_division=0
    )
    return {
        str(label).lower(): {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "support": int(s),
        }
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }


def _needs_reply_figures(expected: list[bool], predicted: list[bool]) -> dict[str, Any]:
    classes = _per_class(expected, predicted, [True, False])
    return {
        "accuracy": round(float(accuracy_score(expected, predicted)), 4),
        "f1": classes["true"]["f1"],
        "classes": classes,
    }


def _group(label: str) -> str | None:
    return "bulk" if label in BULK else "personal" if label in PERSONAL else None


def _category_figures(expected: list[str], predicted: list[str]) -> dict[str, Any]:
    labels = sorted(set(expected) | set(predicted))
    figures: dict[str, Any] = {
        "accuracy": round(float(accuracy_score(expected, predicted)), 4),
        "macro_f1": round(
            float(f1_score(expected, predicted, labels=sorted(set(expected)), average="macro")),
            4,
        ),
        "classes": _per_class(expected, predicted, labels),
    }
    if set(expected) <= {c.value for c in Category}:
        pairs = [(_group(e), _group(p)) for e, p in zip(expected, predicted, strict=True)]
        judged = [(e, p) for e, p in pairs if e is not None]
        if judged:
            figures["bulk_vs_personal"] = {
                "accuracy": round(sum(e == p for e, p in judged) / len(judged), 4),
                "support": len(judged),
            }
    return figures


def _summary_figures(examples: Sequence[Example], predicted: list[str]) -> dict[str, Any]:
    def mean(candidates: Sequence[str]) -> dict[str, float]:
        totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
        for candidate, example in zip(candidates, examples, strict=True):
            for key, value in rouge.scores(candidate, example.expect).items():
                totals[key] += value
        return {key: round(value / len(examples), 4) for key, value in totals.items()}

    return {
        "rouge": mean(predicted),
        "baseline": mean([summary.baseline(e.mail) for e in examples]),
        "baseline_name": "first sentence cut to ten words",
    }


def evaluate(
    task: str,
    dataset: Path,
    *,
    train: Path | None = None,
    provider: str = "local",
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run `task` over `dataset` and return the figures (what `--json` prints).

    `train` first fits a fresh category model on that file (the category task, local provider
    only); `settings` configure the openai provider."""
    if task not in TASKS:
        raise EvalError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    if provider not in PROVIDERS:
        raise EvalError(f"unknown provider {provider!r}: choose local or openai")
    if train is not None and (task != "category" or provider != "local"):
        raise EvalError("--train fits the local category model: use it with the category task")
    examples = load_dataset(dataset, task=task)
    model = None
    if train is not None:
        training = load_dataset(train, task="category")
        try:
            model = category.CategoryModel.fit([(e.mail, e.expect) for e in training])
        except ValueError as error:
            raise EvalError(f"{train}: {error}") from error
    remote = None
    if provider == "openai":
        if settings is None:
            raise EvalError("the openai provider needs settings")
        remote = asyncio.run(_remote_triage(settings, [e.mail for e in examples]))
    predicted = _predict(task, examples, model=model, remote=remote)
    expected = [e.expect for e in examples]
    report: dict[str, Any] = {
        "task": task,
        "dataset": str(dataset),
        "provider": provider,
        "trained_on": str(train) if train is not None else None,
        "examples": len(examples),
    }
    if task == "needs_reply":
        report.update(_needs_reply_figures(expected, predicted))
    elif task == "category":
        report.update(_category_figures(expected, predicted))
    else:
        report.update(_summary_figures(examples, predicted))
    return report


# --- the human table ------------------------------------------------------------------------


def _class_table(classes: dict[str, dict[str, Any]]) -> list[str]:
    width = max(len("class"), *(len(name) for name in classes))
    lines = [f"{'class':<{width}}  precision  recall      f1  support"]
    for name, row in classes.items():
        lines.append(
            f"{name:<{width}}  {row['precision']:>9.3f}  {row['recall']:>6.3f}  "
            f"{row['f1']:>6.3f}  {row['support']:>7}"
        )
    return lines


def render(report: dict[str, Any]) -> str:
    """The report as a few aligned lines for a terminal."""
    head = f"{report['task']} on {report['dataset']}: {report['examples']} examples, "
    head += f"provider {report['provider']}"
    if report.get("trained_on"):
        head += f", trained on {report['trained_on']}"
    lines = [head, ""]
    if report["task"] == "summary":
        lines.append(f"{'measure':<8}  {'postwise':>8}  {'baseline':>8}")
        for key in ("rouge1", "rouge2", "rougeL"):
            name = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L"}[key]
            lines.append(
                f"{name:<8}  {report['rouge'][key]:>8.3f}  {report['baseline'][key]:>8.3f}"
            )
        lines += ["", f"baseline: {report['baseline_name']}"]
        return "\n".join(lines)
    lines.append(f"accuracy          {report['accuracy']:.3f}")
    if report["task"] == "needs_reply":
        lines.append(f"F1 (needs reply)  {report['f1']:.3f}")
    else:
        lines.append(f"macro-F1          {report['macro_f1']:.3f}")
        grouped = report.get("bulk_vs_personal")
        if grouped:
            lines.append(
                f"bulk vs personal  {grouped['accuracy']:.3f} (over {grouped['support']} "
                "examples labelled with either side)"
            )
    lines += ["", *_class_table(report["classes"])]
    return "\n".join(lines)
