import type { Participant, ThreadLabel } from "./types";

/**
 * Formatting for list rows. Building an Intl formatter costs far more than using one, and a
 * scrolling list formats dozens of dates a frame, so formatters are made once per locale.
 */

type Style = "time" | "dayMonth" | "date" | "full";
const OPTIONS: Record<Style, Intl.DateTimeFormatOptions> = {
  time: { hour: "numeric", minute: "2-digit" },
  dayMonth: { day: "numeric", month: "short" },
  date: { day: "numeric", month: "short", year: "numeric" },
  full: { dateStyle: "full", timeStyle: "short" },
};
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(style: Style, locale?: string): Intl.DateTimeFormat {
  const key = `${locale ?? ""}|${style}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, OPTIONS[style]);
    formatters.set(key, found);
  }
  return found;
}

/** "14:05" today, "3 Dec" this year, "3 Dec 2024" before (in the reader's locale and zone). */
export function formatListDate(iso: string, now: Date = new Date(), locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameYear = date.getFullYear() === now.getFullYear();
  if (sameYear && date.getMonth() === now.getMonth() && date.getDate() === now.getDate()) {
    return formatter("time", locale).format(date);
  }
  return formatter(sameYear ? "dayMonth" : "date", locale).format(date);
}

/** The whole date and time, for a tooltip. */
export function formatFullDate(iso: string, locale?: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : formatter("full", locale).format(date);
}

function firstName(name: string): string {
  return name.split(/\s+/)[0] ?? name;
}

function displayName(participant: Participant): string {
  const name = participant.name.trim();
  if (name && !name.includes("@")) return name;
  return participant.address.split("@")[0] || participant.address;
}

/**
 * Who wrote in a thread, as a row shows it: the user as "me", one sender by full name, several
 * by first names ("Ana, Bo"; "Ana … Cy, Di" beyond three), and the message count after them.
 */
export function formatSenders(
  participants: readonly Participant[],
  ownAddresses: ReadonlySet<string>,
  messageCount: number,
): string {
  const names: string[] = [];
  for (const participant of participants) {
    const own = ownAddresses.has(participant.address.toLowerCase());
    const name = own ? "me" : displayName(participant);
    if (!names.includes(name)) names.push(name);
  }
  let text: string;
  if (names.length === 0) text = "(no sender)";
  else if (names.length === 1) text = names[0]!;
  else {
    const short = names.map((name) => (name === "me" ? name : firstName(name)));
    text =
      short.length > 3 ? `${short[0]} … ${short.slice(-2).join(", ")}` : short.join(", ");
  }
  return messageCount > 1 ? `${text} (${messageCount})` : text;
}

/** A label chip's text: the last part of the folder's path. */
export function labelText(label: ThreadLabel, displayNames: ReadonlyMap<string, string>): string {
  return displayNames.get(label.folder_id) ?? label.name.split(/[/.]/).pop() ?? label.name;
}

/** "1 conversation", "3 conversations". */
export function conversations(count: number): string {
  return `${count} conversation${count === 1 ? "" : "s"}`;
}
