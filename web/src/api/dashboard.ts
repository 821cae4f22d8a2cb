import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { ApiError, api, unwrap } from "./client";
import { mailKeys } from "./keys";
import { problemCode } from "./problem";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Dashboard = Schemas["Dashboard"];
export type DayActivity = Schemas["DayActivity"];
export type TopSender = Schemas["TopSender"];
export type FolderUnread = Schemas["FolderUnread"];
export type WaitingThread = Schemas["WaitingThread"];
export type MailboxStatus = Schemas["MailboxStatus"];

/** The windows the dashboard offers, in days (the API takes 7 to 90). */
export const DASHBOARD_PERIODS = [7, 30, 90] as const;
export type DashboardPeriod = (typeof DASHBOARD_PERIODS)[number];

/** The reader's IANA time zone, so "per day" means their days; UTC when the browser won't say. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export async function fetchDashboard(days: number, tz: string, signal?: AbortSignal): Promise<Dashboard> {
  try {
    return unwrap(await api.GET("/api/dashboard", { params: { query: { days, tz } }, signal }));
  } catch (error) {
    // A browser whose zone the server's zone data does not know yet: days in UTC beat no dashboard.
    if (tz !== "UTC" && error instanceof ApiError && problemCode(error) === "invalid_timezone") {
      return fetchDashboard(days, "UTC", signal);
    }
    throw error;
  }
}

/** `GET /api/dashboard` for the last `days` days; the previous period stays on screen while the next loads. */
export function useDashboard(days: DashboardPeriod) {
  const tz = browserTimeZone();
  return useQuery({
    queryKey: [...mailKeys.dashboard, { days, tz }] as const,
    queryFn: ({ signal }) => fetchDashboard(days, tz, signal),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}
