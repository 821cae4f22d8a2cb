"""The job that renders and sends one transactional mail."""

from __future__ import annotations

import structlog

from postwise.notify.mailer import PermanentMailError
from postwise.notify.templates import render_email
from postwise.worker.registry import JobContext, job

log = structlog.get_logger(__name__)


@job("notify.send_email", retries=3)
async def send_email(
    ctx: JobContext, *, template: str, to: str, context: dict[str, object]
) -> None:
    """Render `template` for `to` and send it; transient failures raise so the job is retried.

    The context holds links with tokens: it is never logged, only the template and recipient.
    """
    try:
        message = render_email(template, to=to, context=context)
    except ValueError as error:
        # A bug in the caller, not bad luck: retrying would fail the same way.
        log.error("mail_template_failed", template=template, to=to, error=str(error))
        return
    try:
        await ctx.mailer.send(message)
    except PermanentMailError as error:
        log.error("mail_not_delivered", template=template, to=to, error=str(error))
        return
    log.info("mail_sent", template=template, to=to)
