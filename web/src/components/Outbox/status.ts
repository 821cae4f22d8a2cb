import type { OutboxEntry } from "@/api/outbox";
import { formatListDate } from "@/components/Mail/format";

/**
 * An outbox entry's state in words ("Sending in 8 s", "Scheduled for Tue 8:00", "Not sent:
 * …"), worked out from the entry and the time, so a row re-rendered each second counts down.
 */

export type StatusTone = "waiting" | "sending" | "sent" | "failed";

export interface OutboxStatus {
  text: string;
  tone: StatusTone;
  /** More for a tooltip: the SMTP server's reply, as it said it. */
  detail?: string;
  /** What the row offers: take it back into a draft (queued), fix it (failed), or nothing. */
  action: "cancel" | "edit" | null;
  /** A mark before the words. */
  icon?: "scheduled" | "failed";
}

/** Up to this many seconds away a send counts down; further off it shows the time. */
export const COUNTDOWN_LIMIT_S = 60;
/** Within this many days a scheduled time says the weekday ("Tue 8:00"), beyond it the date. */
const WEEKDAY_DAYS = 6;

type Style = "time" | "weekday" | "dayMonth" | "date";
const OPTIONS: Record<Style, Intl.DateTimeFormatOptions> = {
  time: { hour: "numeric", minute: "2-digit" },
  weekday: { weekday: "short" },
  dayMonth: { day: "numeric", month: "short" },
  date: { day: "numeric", month: "short", year: "numeric" },
};
const formatters = new Map<string, Intl.DateTimeFormat>();
function format(style: Style, date: Date, locale?: string): string {
  const key = `${locale ?? ""}|${style}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, OPTIONS[style]);
    formatters.set(key, found);
  }
  return found.format(date);
}

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/**
 * A time ahead: "14:05" today, "Tue 8:00" this week, "3 Dec, 8:00" later, with the year when
 * not this one. Day and time are formatted apart so the time reads the same in all three.
 */
export function formatUpcoming(iso: string, now: Date, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const time = format("time", date, locale);
  const days = Math.round((startOfDay(date) - startOfDay(now)) / 86_400_000);
  if (days === 0) return time;
  if (days > 0 && days <= WEEKDAY_DAYS) return `${format("weekday", date, locale)} ${time}`;
  return `${format(date.getFullYear() === now.getFullYear() ? "dayMonth" : "date", date, locale)}, ${time}`;
}

/** Whole seconds from now until `iso`, rounded up (a send 7.2 s away is "in 8 s"). */
export function secondsUntil(iso: string | null, now: Date): number | null {
  if (!iso) return null;
  const at = new Date(iso).getTime();
  return Number.isNaN(at) ? null : Math.ceil((at - now.getTime()) / 1000);
}

function reason(entry: OutboxEntry): string {
  return entry.last_error?.trim() || entry.smtp_reply?.trim() || "the server refused it";
}

function detailOf(entry: OutboxEntry): string | undefined {
  const reply = entry.smtp_reply?.trim();
  const summary = entry.last_error?.trim();
  return reply && summary && reply !== summary ? reply : undefined;
}

export function outboxStatus(entry: OutboxEntry, now: Date, locale?: string): OutboxStatus {
  switch (entry.status) {
    case "queued": {
      if (entry.scheduled && entry.send_at && (secondsUntil(entry.send_at, now) ?? 0) > 0) {
        return {
          text: `Scheduled for ${formatUpcoming(entry.send_at, now, locale)}`,
          tone: "waiting",
          action: "cancel",
          icon: "scheduled",
        };
      }
      // A temporary failure (a 4xx, a lost connection): the server tries again on its own.
      if (entry.attempts > 0 && entry.last_error) {
        const retry = entry.next_attempt_at;
        const when = retry && (secondsUntil(retry, now) ?? 0) > 0 ? ` ${formatUpcoming(retry, now, locale)}` : " soon";
        return {
          text: `Not sent yet, trying again${when}: ${reason(entry)}`,
          tone: "waiting",
          detail: detailOf(entry),
          action: "cancel",
        };
      }
      const left = secondsUntil(entry.send_at, now);
      if (left !== null && left > 0) {
        return left <= COUNTDOWN_LIMIT_S
          ? { text: `Sending in ${left} s`, tone: "waiting", action: "cancel" }
          : {
              text: `Sending at ${formatUpcoming(entry.send_at!, now, locale)}`,
              tone: "waiting",
              action: "cancel",
            };
      }
      // Due: the worker takes it any moment; cancelling may still win the race.
      return { text: "Sending…", tone: "sending", action: "cancel" };
    }
    case "sending":
      return { text: "Sending…", tone: "sending", action: null };
    case "sent":
      return {
        text: `Sent ${formatListDate(entry.sent_at ?? entry.updated_at, now, locale)}`,
        tone: "sent",
        action: null,
      };
    case "failed":
      return {
        text: `Not sent: ${reason(entry)}`,
        tone: "failed",
        detail: detailOf(entry),
        action: "edit",
        icon: "failed",
      };
    default:
      return { text: "Draft", tone: "waiting", action: null };
  }
}
