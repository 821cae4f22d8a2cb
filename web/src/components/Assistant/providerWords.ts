/** How the assistant says who did the work: the words are about where the mail went. */

/** "api.openai.com" for "https://api.openai.com/v1"; the text itself when it is not a URL. */
export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host || baseUrl;
  } catch {
    return baseUrl;
  }
}

/** The remote service by name and place: "gpt-4o-mini (api.openai.com)". */
export function remoteName(model: string, baseUrl: string | null | undefined): string {
  return baseUrl ? `${model} (${hostOf(baseUrl)})` : model;
}

/** "Summarised on this machine", or "Summarised by gpt-4o-mini (api.openai.com)". */
export function summarisedBy(provider: string, model: string, baseUrl: string | null | undefined): string {
  return provider === "local" ? "Summarised on this machine" : `Summarised by ${remoteName(model, baseUrl)}`;
}

const dueFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

/** "3 Dec 2026" for a "2026-12-03" due date (a calendar day, so no time zone may move it). */
export function formatDue(day: string): string {
  const [year, month, date] = day.split("-").map(Number);
  if (!year || !month || !date) return day;
  return dueFormat.format(new Date(Date.UTC(year, month - 1, date)));
}

const money = new Intl.NumberFormat(undefined, {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});

/** "$0.0123": costs are small, so up to four decimals. */
export function formatCost(usd: number): string {
  return money.format(usd);
}
