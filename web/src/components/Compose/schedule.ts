/** Scheduled send: the presets Gmail offers, in the user's own time zone. */

export interface SchedulePreset {
  label: string;
  at: Date;
}

function atEight(date: Date): Date {
  const result = new Date(date);
  result.setHours(8, 0, 0, 0);
  return result;
}

/** Tomorrow 8:00 and next Monday 8:00 (a week on when today is Monday). */
export function schedulePresets(now: Date = new Date()): SchedulePreset[] {
  const tomorrow = atEight(new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1));
  const untilMonday = ((8 - now.getDay()) % 7) || 7;
  const monday = atEight(new Date(now.getFullYear(), now.getMonth(), now.getDate() + untilMonday));
  const presets = [{ label: "Tomorrow morning", at: tomorrow }];
  // On a Sunday, "tomorrow morning" is Monday morning already.
  if (monday.getTime() !== tomorrow.getTime()) presets.push({ label: "Monday morning", at: monday });
  return presets;
}

const WHEN = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

/** "Tue 9 Dec, 08:00" in the user's locale. */
export function formatSendAt(value: Date | string): string {
  return WHEN.format(typeof value === "string" ? new Date(value) : value);
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** The value of an `<input type="datetime-local">` for a moment, in local time. */
export function toLocalInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A `datetime-local` value (local time, no zone) as a moment; null when it is not one. */
export function fromLocalInput(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!match) return null;
  const [, y, m, d, h, min] = match.map(Number) as [number, number, number, number, number, number];
  const date = new Date(y, m - 1, d, h, min);
  return Number.isNaN(date.getTime()) ? null : date;
}
