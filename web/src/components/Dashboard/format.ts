/** Numbers, sizes, days and ages as the dashboard writes them, in the reader's locale. */

const numbers = new Intl.NumberFormat(undefined);
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
// Days arrive as "YYYY-MM-DD" (the reader's days, worked out by the server): formatted as the
// UTC midnight of that date, so no time zone can move them to the day before.
const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const fullDay = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  day: "numeric",
  month: "long",
  timeZone: "UTC",
});

export function formatCount(value: number): string {
  return numbers.format(value);
}

/** "1 message", "1,204 messages". */
export function plural(value: number, one: string, many: string): string {
  return `${formatCount(value)} ${value === 1 ? one : many}`;
}

function utcDate(day: string): Date {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, date ?? 1));
}

/** "3 Dec" for a "2026-12-03" day. */
export function formatDay(day: string): string {
  return dayMonth.format(utcDate(day));
}

/** "Thursday 3 December", for a chart's tooltip and summary. */
export function formatLongDay(day: string): string {
  return fullDay.format(utcDate(day));
}

const BYTE_UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;
const byteFormats = new Map<string, Intl.NumberFormat>();

/** "512 MB", "2.3 GB": binary multiples, one decimal below 10. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return plural(Math.round(value), "byte", "bytes");
  const digits = value < 10 ? 1 : 0;
  const key = `${BYTE_UNITS[unit]}|${digits}`;
  let format = byteFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(undefined, {
      style: "unit",
      unit: BYTE_UNITS[unit],
      unitDisplay: "short",
      maximumFractionDigits: digits,
    });
    byteFormats.set(key, format);
  }
  return format.format(value);
}

const AGES: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "5 minutes ago", "yesterday", "just now". */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) return "";
  const seconds = Math.round((time - now) / 1000);
  for (const [unit, size] of AGES) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

/** The busiest day of a series, or undefined when every day is zero. */
export function busiest<T extends { day: string }>(days: readonly T[], value: (day: T) => number): T | undefined {
  let best: T | undefined;
  for (const day of days) {
    if (value(day) > 0 && (best === undefined || value(day) > value(best))) best = day;
  }
  return best;
}
