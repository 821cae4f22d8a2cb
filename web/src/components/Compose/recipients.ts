import type { Recipient } from "@/api/compose";

/**
 * Recipients as the user types and pastes them: `Ana <ana@example.com>, bo@example.com;
 * "Lima, Ana" <ana@x.org>` becomes three chips. Addresses that do not look like one stay as
 * chips marked invalid, so nothing the user typed disappears; the server has the last word.
 */

export interface RecipientChip extends Recipient {
  /** False for text that is no address; such chips are shown in red and never saved. */
  valid: boolean;
}

export type RecipientField = "to" | "cc" | "bcc";

// The server's check (postwise.accounts.schemas._normalise_email), roughly: a local part
// without these characters, an @, and a host name that is not an IP address.
const NOT_IN_LOCAL = /[\s"<>(),;:[\]\\@]/;
const HOST_LABEL = /^[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?$/u;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

export function isValidAddress(address: string): boolean {
  const at = address.lastIndexOf("@");
  if (at <= 0 || address.length > 320) return false;
  const local = address.slice(0, at);
  const host = address.slice(at + 1).replace(/\.$/, "");
  if (local.length > 64 || NOT_IN_LOCAL.test(local)) return false;
  if (host === "" || IPV4.test(host) || host.includes(":")) return false;
  return host.split(".").every((label) => label.length <= 63 && HOST_LABEL.test(label));
}

/** Split at commas, semicolons and line breaks that are outside quotes and angle brackets. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  let angle = false;
  for (const char of text) {
    if (char === '"' && !angle) quoted = !quoted;
    else if (char === "<" && !quoted) angle = true;
    else if (char === ">" && !quoted) angle = false;
    if (!quoted && !angle && (char === "," || char === ";" || char === "\n" || char === "\r")) {
      parts.push(current);
      current = "";
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts;
}

function unquote(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    return trimmed.slice(1, -1).replace(/\\(.)/g, "$1").trim();
  }
  return trimmed.replace(/\s+/g, " ");
}

function chip(name: string, address: string): RecipientChip {
  const clean = address.trim().replace(/^mailto:/i, "");
  // Names become headers: no line breaks or other controls (the server refuses them too).
  const safeName = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ").trim();
  return { name: safeName === clean ? "" : safeName, address: clean, valid: isValidAddress(clean) };
}

function parsePart(part: string): RecipientChip[] {
  const open = part.lastIndexOf("<");
  const close = part.lastIndexOf(">");
  if (open >= 0 && close > open) {
    return [chip(unquote(part.slice(0, open)), part.slice(open + 1, close))];
  }
  // "a@x.org b@y.org" pasted from a list: several bare addresses separated by spaces.
  const words = part.split(/\s+/);
  if (words.length > 1 && words.every((word) => word.includes("@"))) {
    return words.map((word) => chip("", word));
  }
  return [chip("", unquote(part))];
}

/** Every recipient in `text`, in order. */
export function parseRecipients(text: string): RecipientChip[] {
  return splitTopLevel(text)
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .flatMap(parsePart);
}

/** True when the text holds a separator (outside quotes), so what comes before it is finished. */
export function hasSeparator(text: string): boolean {
  return splitTopLevel(text).length > 1;
}

/** The text before the last separator (finished recipients) and after it (still being typed). */
export function splitFinished(text: string): { finished: string; rest: string } {
  const parts = splitTopLevel(text);
  const rest = parts.pop() ?? "";
  return { finished: parts.join(","), rest: rest.trimStart() };
}

/** `Ana Lima <ana@example.com>`, or the bare address. */
export function formatRecipient(recipient: Recipient): string {
  if (!recipient.name) return recipient.address;
  const name = /[",;<>@()]/.test(recipient.name) ? `"${recipient.name.replace(/(["\\])/g, "\\$1")}"` : recipient.name;
  return `${name} <${recipient.address}>`;
}

/** What a chip shows: the name, else the address. */
export function chipLabel(recipient: Recipient): string {
  return recipient.name || recipient.address;
}

/** Chips from the server's recipients (all valid: the server checked them). */
export function chipsOf(recipients: readonly Recipient[]): RecipientChip[] {
  return recipients.map((recipient) => ({ name: recipient.name, address: recipient.address, valid: true }));
}

/** Only the valid ones, as the server wants them; the same address once. */
export function recipientsOf(chips: readonly RecipientChip[]): Recipient[] {
  const seen = new Set<string>();
  const result: Recipient[] = [];
  for (const item of chips) {
    const key = item.address.toLowerCase();
    if (!item.valid || seen.has(key)) continue;
    seen.add(key);
    result.push({ name: item.name, address: item.address });
  }
  return result;
}

/** Add chips, leaving out addresses already in the field. */
export function addChips(current: readonly RecipientChip[], added: readonly RecipientChip[]): RecipientChip[] {
  const seen = new Set(current.filter((item) => item.valid).map((item) => item.address.toLowerCase()));
  const result = [...current];
  for (const item of added) {
    const key = item.address.toLowerCase();
    if (item.valid && seen.has(key)) continue;
    if (item.valid) seen.add(key);
    result.push(item);
  }
  return result;
}
