import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";

export const healthKeys = {
  all: ["health"] as const,
};

/** Liveness of the API server (`GET /healthz`), re-checked every 30 s. */
export function useHealth() {
  return useQuery({
    queryKey: healthKeys.all,
    queryFn: async ({ signal }) => unwrap(await api.GET("/healthz", { signal })),
    refetchInterval: 30_000,
    retry: false,
  });
}
