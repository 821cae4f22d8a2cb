import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useSyncExternalStore } from "react";

import { mailKeys } from "@/api/keys";
import { searchProblemOf } from "@/api/search";

/**
 * The error of the thread list searching for `q`, when the server refused the query (422
 * `invalid_query`). The list owns the search request; the search bar only listens to the query
 * cache, whatever folder the list put in its key.
 */
export function useSearchError(q: string): unknown {
  const queryClient = useQueryClient();
  const cache = queryClient.getQueryCache();

  const snapshot = useCallback((): unknown => {
    if (q === "") return null;
    for (const query of cache.findAll({ queryKey: mailKeys.threadLists })) {
      const params: unknown = query.queryKey[1];
      if (typeof params !== "object" || params === null || (params as { q?: unknown }).q !== q) continue;
      const { error, status } = query.state;
      if (status === "error" && searchProblemOf(error) !== undefined) return error;
    }
    return null;
  }, [cache, q]);

  const subscribe = useCallback((onChange: () => void) => cache.subscribe(onChange), [cache]);
  return useSyncExternalStore(subscribe, snapshot, () => null);
}
