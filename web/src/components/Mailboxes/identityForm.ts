import { ApiError } from "@/api/client";
import type { Identity, IdentityOut } from "@/api/outbox";

/**
 * The identity form's state, its checks (the server's rules, said before saving) and the
 * mapping of the server's field errors back onto the rows the user typed.
 */

export interface SendAsRow {
  /** Stable across edits, for React keys and focus. */
  key: number;
  name: string;
  address: string;
}

export interface IdentityForm {
  senderName: string;
  sendAs: SendAsRow[];
  signatureText: string;
  signatureHtml: string;
}

/** Field errors keyed by the server's paths: `sender_name`, `send_as[0].address`, … */
export type IdentityErrors = Record<string, string>;

export const LIMITS = { name: 200, sendAs: 50, signatureText: 10_000, signatureHtml: 50_000 } as const;

// The server's rule (accounts/schemas.py): a local part without spaces or specials, a domain
// of dot-separated labels; private host names pass, as they do there.
const ADDRESS = /^[^\s"<>(),;:[\]\\@]{1,64}@[^\s@.]+(\.[^\s@.]+)*$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

let nextKey = 0;
export function newRow(name = "", address = ""): SendAsRow {
  nextKey += 1;
  return { key: nextKey, name, address };
}

export function fromIdentity(identity: IdentityOut): IdentityForm {
  return {
    senderName: identity.sender_name,
    sendAs: (identity.send_as ?? []).map((entry) => newRow(entry.name, entry.address)),
    signatureText: identity.signature_text,
    signatureHtml: identity.signature_html,
  };
}

function isBlank(row: SendAsRow): boolean {
  return row.name.trim() === "" && row.address.trim() === "";
}

/** The rows that are sent (empty ones are dropped), with their index in the form. */
function filledRows(form: IdentityForm): { row: SendAsRow; formIndex: number }[] {
  return form.sendAs.flatMap((row, formIndex) => (isBlank(row) ? [] : [{ row, formIndex }]));
}

export function toIdentity(form: IdentityForm): Identity {
  return {
    sender_name: form.senderName.trim(),
    send_as: filledRows(form).map(({ row }) => ({ name: row.name.trim(), address: row.address.trim() })),
    signature_text: form.signatureText.trimEnd(),
    signature_html: form.signatureHtml.trim(),
  };
}

function nameProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return "Use a name without line breaks or special characters";
  if (value.trim().length > LIMITS.name) return `Use at most ${LIMITS.name} characters`;
  return undefined;
}

/** What is wrong with the form, keyed by form row (`send_as[<form index>].address`). */
export function validateIdentity(form: IdentityForm, mailboxEmail: string): IdentityErrors {
  const errors: IdentityErrors = {};
  const senderName = nameProblem(form.senderName);
  if (senderName) errors.sender_name = senderName;
  const seen = new Set<string>([mailboxEmail.trim().toLowerCase()]);
  for (const { row, formIndex } of filledRows(form)) {
    const address = row.address.trim();
    const name = nameProblem(row.name);
    if (name) errors[`send_as[${formIndex}].name`] = name;
    const key = `send_as[${formIndex}].address`;
    if (!address) errors[key] = "Enter the address";
    else if (!ADDRESS.test(address)) errors[key] = "Enter an address like name@example.com";
    else if (address.toLowerCase() === mailboxEmail.trim().toLowerCase()) errors[key] = "This is the mailbox’s own address";
    else if (seen.has(address.toLowerCase())) errors[key] = "This address is already in the list";
    seen.add(address.toLowerCase());
  }
  if (filledRows(form).length > LIMITS.sendAs) errors.send_as = `Add at most ${LIMITS.sendAs} addresses`;
  if (form.signatureText.length > LIMITS.signatureText)
    errors.signature_text = `Shorten the signature to ${LIMITS.signatureText.toLocaleString()} characters`;
  if (form.signatureHtml.length > LIMITS.signatureHtml)
    errors.signature_html = `Shorten the signature to ${LIMITS.signatureHtml.toLocaleString()} characters`;
  return errors;
}

function sentence(message: string): string {
  const text = message.replace(/^Value error,\s*/i, "").trim();
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * The server's field errors on the form's rows. Its `send_as[i]` counts only the rows that
 * were sent, so the index is mapped back to the row on screen. A problem that names one field
 * (`field` in its body) lands there too; the rest is for the form as a whole.
 */
export function serverErrors(error: unknown, form: IdentityForm): { fields: IdentityErrors; other: boolean } {
  const fields: IdentityErrors = {};
  if (!(error instanceof ApiError)) return { fields, other: error !== null && error !== undefined };
  const problem = record(error.problem);
  const rows = filledRows(form);
  const place = (path: string, message: string) => {
    const mapped = path.replace(/^send_as\[(\d+)\]/, (whole, index: string) => {
      const row = rows[Number(index)];
      return row ? `send_as[${row.formIndex}]` : whole;
    });
    fields[mapped] ??= sentence(message);
  };
  const list = Array.isArray(problem?.errors) ? problem.errors : [];
  for (const item of list) {
    const entry = record(item);
    if (typeof entry?.field === "string" && typeof entry.message === "string") place(entry.field, entry.message);
  }
  if (typeof problem?.field === "string") {
    const detail = typeof problem.detail === "string" ? problem.detail : "Check this field";
    place(problem.field, detail);
  }
  return { fields, other: Object.keys(fields).length === 0 };
}
