import { ApiError } from "@/api/client";
import type { Draft, DraftCreate } from "@/api/compose";
import { errorMessage } from "@/api/problem";

import type { ComposeErrors, ComposeField } from "./problems";
import { chipsOf, recipientsOf } from "./recipients";
import type { ComposeIntent, SessionState } from "./sessionTypes";

/** The pure parts of a compose session (session.ts): first state, request bodies, checks. */

export function emptyState(intent: ComposeIntent): SessionState {
  const prefill = intent.kind === "new" ? intent : undefined;
  return {
    phase: "creating",
    draft: null,
    from: "",
    to: chipsOf(prefill?.to ?? []),
    cc: [],
    bcc: [],
    subject: prefill?.subject ?? "",
    plain: false,
    body: { html: "", text: "", revision: 0 },
    save: "idle",
    notice: null,
    loadError: null,
    errors: {},
    uploads: [],
    touched: false,
  };
}

export function createBody(intent: Exclude<ComposeIntent, { kind: "draft" }>): DraftCreate {
  switch (intent.kind) {
    case "reply":
      return { mode: intent.mode, reply_to_message_id: intent.messageId };
    case "forward":
      return { mode: "forward", forward_of_message_id: intent.messageId };
    case "new":
      return {
        mode: "new",
        to: intent.to && intent.to.length > 0 ? intent.to : null,
        subject: intent.subject ?? null,
      };
  }
}

/** The parts of a draft the editor writes: equal means a conflict was only about versions. */
export function content(draft: Draft): string {
  const { from_address, to, cc, bcc, subject, text, html } = draft;
  return JSON.stringify([from_address, to, cc, bcc, subject, text, html]);
}

export function without(errors: ComposeErrors, ...fields: (ComposeField | "form")[]): ComposeErrors {
  if (!fields.some((field) => field in errors)) return errors;
  const next = { ...errors };
  for (const field of fields) delete next[field];
  return next;
}

/** A new draft holding what the window shows: after the old one was deleted, or in another mailbox. */
export function copyOf(
  state: SessionState,
  body: { html: string | null; text: string },
  old: Draft | null,
  target: { accountId?: string; fromAddress?: string },
): DraftCreate {
  return {
    account_id: target.accountId ?? old?.account_id ?? null,
    from_address: target.fromAddress ?? (state.from || null),
    to: recipientsOf(state.to),
    cc: recipientsOf(state.cc),
    bcc: recipientsOf(state.bcc),
    subject: state.subject,
    text: body.text,
    html: state.plain ? null : body.html,
    mode: old?.mode ?? "new",
    reply_to_message_id: old?.reply_to_message_id ?? null,
    forward_of_message_id: old?.forward_of_message_id ?? null,
  };
}

/** What stops a send before it starts, by the field it concerns. */
export function sendBlockers(state: SessionState): ComposeErrors {
  const errors: ComposeErrors = {};
  for (const field of ["to", "cc", "bcc"] as const) {
    const bad = state[field].find((item) => !item.valid);
    if (bad) errors[field] = `"${bad.address}" isn't an email address. Correct or remove it.`;
  }
  const count = recipientsOf(state.to).length + recipientsOf(state.cc).length + recipientsOf(state.bcc).length;
  if (count === 0 && errors.to === undefined) errors.to = "Add at least one recipient.";
  if (state.uploads.some((upload) => upload.error === null)) {
    errors.attachments = "Wait until the files have finished uploading.";
  }
  if (state.phase === "creating") errors.form = "The draft is still being prepared. Try again in a moment.";
  if (state.phase === "failed") errors.form = state.loadError ?? "The draft couldn't be created.";
  if (state.phase === "locked") errors.form = state.notice ?? "This message can't be sent from here.";
  return errors;
}

export function uploadError(error: unknown): string {
  if (error instanceof ApiError && error.status === 413) {
    // The server's sentence names the limit ("Attachments may add up to 25 MB").
    const detail = (error.problem as { detail?: unknown } | undefined)?.detail;
    return typeof detail === "string" && detail ? detail : "This file is too large to attach.";
  }
  return errorMessage(error);
}
