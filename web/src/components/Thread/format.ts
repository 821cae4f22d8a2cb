import type { Address, Message } from "@/api/thread";

const time = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const dayMonthYear = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function parse(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** When a message was written: its Date header, else when it arrived. */
export function messageDate(message: Pick<Message, "sent_at" | "received_at">): string {
  return message.sent_at ?? message.received_at;
}

/** "14:05" today, "3 Dec" this year, "3 Dec 2024" before, as the list shows dates. */
export function formatShortDate(iso: string, now: Date = new Date()): string {
  const date = parse(iso);
  if (date === null) return "";
  if (date.toDateString() === now.toDateString()) return time.format(date);
  if (date.getFullYear() === now.getFullYear()) return dayMonth.format(date);
  return dayMonthYear.format(date);
}

/** "Tuesday, 3 December 2024 at 14:05" for a tooltip. */
export function formatFullDate(iso: string): string {
  const date = parse(iso);
  return date === null ? iso : full.format(date);
}

/** "1.2 MB", "340 KB", "12 bytes": sizes people read, in powers of 1000 as file managers show. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value).toString();
  return `${shown} ${units[unit]}`;
}

/** The name to show for an address: its display name, else the address itself. */
export function displayName(address: Address): string {
  return address.name.trim() || address.address || "Unknown sender";
}

function firstName(address: Address): string {
  const name = address.name.trim();
  if (name) return name.split(/\s+/)[0] ?? name;
  return address.address.split("@")[0] || address.address;
}

/** "to me, Ana, Bo" (Gmail's short form): "me" for the user's own addresses, first names else. */
export function recipientsSummary(message: Pick<Message, "to" | "cc" | "bcc">, own: ReadonlySet<string>): string {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const address of [...message.to, ...message.cc, ...message.bcc]) {
    const key = address.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    names.push(own.has(key) ? "me" : firstName(address));
  }
  if (names.length === 0) return "to undisclosed recipients";
  // "me" first, as people look for themselves.
  names.sort((a, b) => Number(b === "me") - Number(a === "me"));
  return `to ${names.join(", ")}`;
}

/** "Ana Silva <ana@example.com>" for full recipient lists. */
export function formatAddress(address: Address): string {
  const name = address.name.trim();
  return name && name !== address.address ? `${name} <${address.address}>` : address.address;
}

/**
 * The server counts text offsets in Unicode code points (Python strings); JavaScript strings
 * index UTF-16 code units, which differ once an emoji or other astral character comes first.
 */
export function codePointOffsetToIndex(text: string, offset: number): number {
  let index = 0;
  let points = 0;
  while (index < text.length && points < offset) {
    const code = text.codePointAt(index) ?? 0;
    index += code > 0xffff ? 2 : 1;
    points += 1;
  }
  return index;
}

/** Where the part that folds behind "…" begins (quoted history or signature), or null. */
export function foldIndex(message: Pick<Message, "body_text" | "quote_offset" | "signature_offset">): number | null {
  const offsets = [message.quote_offset, message.signature_offset].filter(
    (offset): offset is number => offset !== null && offset >= 0,
  );
  if (offsets.length === 0) return null;
  const index = codePointOffsetToIndex(message.body_text, Math.min(...offsets));
  // Folding everything would leave an empty card (a bare forward): show it all instead.
  if (message.body_text.slice(0, index).trim() === "") return null;
  if (index >= message.body_text.length) return null;
  return index;
}

/**
 * The target of an "Unsubscribe" link: a List-Unsubscribe value's first https: address, else
 * its mailto:. Plain http: is left out: it would send the request, and who you are, in clear.
 */
export function unsubscribeTarget(value: string | null): string | null {
  if (!value) return null;
  const targets = [...value.matchAll(/<([^>]+)>/g)].map((match) => match[1] ?? "");
  const candidates = targets.length > 0 ? targets : value.split(",").map((part) => part.trim());
  for (const scheme of ["https:", "mailto:"]) {
    const found = candidates.find((target) => target.toLowerCase().startsWith(scheme));
    if (found) return found;
  }
  return null;
}

const dayMonthTime = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  hour: "numeric",
  minute: "2-digit",
});
const dayMonthYearTime = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "numeric",
  minute: "2-digit",
});

/** An open message's date: "14:05" today, "3 Dec, 14:05" this year, "3 Dec 2024, 14:05" before. */
export function formatCardDate(iso: string, now: Date = new Date()): string {
  const date = parse(iso);
  if (date === null) return "";
  if (date.toDateString() === now.toDateString()) return time.format(date);
  if (date.getFullYear() === now.getFullYear()) return dayMonthTime.format(date);
  return dayMonthYearTime.format(date);
}

/** One or two letters for a sender's avatar. */
export function initials(address: Address): string {
  const words = displayName(address)
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  return letters.map((word) => [...(word ?? "")][0] ?? "").join("").toUpperCase() || "?";
}
