import { ApiError } from "@/api/client";
import { errorMessage, problemCode } from "@/api/problem";

/** Where a problem of the compose API belongs on screen: next to a field, or above the form. */

export type ComposeField = "from" | "to" | "cc" | "bcc" | "subject" | "body" | "attachments" | "send_at";
export type ComposeErrors = Partial<Record<ComposeField | "form", string>>;

const FIELD_OF: Record<string, ComposeField> = {
  from_address: "from",
  to: "to",
  cc: "cc",
  bcc: "bcc",
  subject: "subject",
  text: "body",
  html: "body",
  send_at: "send_at",
  file: "attachments",
  attachments: "attachments",
};

/** Codes whose field the problem does not name itself. */
const CODE_FIELDS: Record<string, ComposeField> = {
  no_recipients: "to",
  invalid_recipient: "to",
  invalid_from_address: "from",
  attachment_too_large: "attachments",
  send_at_in_past: "send_at",
};

/** Sentences for codes whose server wording is not enough on its own. */
export const COMPOSE_MESSAGES: Record<string, string> = {
  smtp_not_configured:
    "This mailbox can't send mail yet. Add its outgoing mail server in Settings → Mailboxes, then send again.",
  draft_not_editable: "This message is already in the Outbox. Undo the send to change it.",
  already_sent: "Too late to undo: the message has already left.",
};

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** The compose field a path such as `body.to.0.address` or `to[1].name` is about. */
export function fieldOfPath(path: string): ComposeField | undefined {
  for (const segment of path.split(/[.[\]]/)) {
    const field = FIELD_OF[segment];
    if (field !== undefined) return field;
  }
  return undefined;
}

/** Spread a problem over the fields it names; whatever names no field goes to `form`. */
export function composeErrors(error: unknown): ComposeErrors {
  const result: ComposeErrors = {};
  const problem = error instanceof ApiError ? record(error.problem) : undefined;
  const items = Array.isArray(problem?.errors) ? problem.errors : [];
  for (const item of items) {
    const entry = record(item);
    if (typeof entry?.field !== "string" || typeof entry.message !== "string") continue;
    const field = fieldOfPath(entry.field);
    if (field !== undefined) result[field] ??= sentence(entry.message);
  }
  if (Object.keys(result).length > 0) return result;
  const code = problemCode(error);
  const message = errorMessage(error, COMPOSE_MESSAGES);
  const named = typeof problem?.field === "string" ? fieldOfPath(problem.field) : undefined;
  const field = named ?? (code !== undefined ? CODE_FIELDS[code] : undefined);
  if (field !== undefined) result[field] = message;
  else result.form = message;
  return result;
}

function sentence(message: string): string {
  const text = message.trim();
  if (text === "") return text;
  const capital = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** True for failures that may pass by themselves: the network, the server busy or restarting. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500 || error.status === 429 || error.status === 408;
  return error instanceof TypeError;
}
