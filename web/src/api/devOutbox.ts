import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import type { components } from "./schema";

export type OutboxItem = components["schemas"]["OutboxItem"];

/**
 * Mail a dev server kept instead of sending (`GET /api/dev/outbox`, dev only and
 * loopback only; 404 elsewhere). Polls briefly: mail leaves through a job.
 */
export function useDevOutbox(to: string) {
  return useQuery({
    queryKey: ["dev-outbox", to],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/dev/outbox", { signal })).items.filter(
        (item) => item.to.toLowerCase() === to.toLowerCase(),
      ),
    retry: false,
    refetchInterval: (query) =>
      query.state.status === "error" || (query.state.data?.length ?? 0) > 0 ? false : 2_000,
    refetchIntervalInBackground: false,
  });
}
