import { useInfiniteQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type SecurityEvent = Schemas["EventOut"];

export const eventKeys = {
  all: ["security-events"] as const,
};

const PAGE_SIZE = 20;

/** The account's security log, newest first, a page at a time (`GET /api/auth/events`). */
export function useSecurityEvents() {
  return useInfiniteQuery({
    queryKey: eventKeys.all,
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        await api.GET("/api/auth/events", {
          params: { query: { limit: PAGE_SIZE, cursor: pageParam ?? undefined } },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}
