import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Session = Schemas["SessionOut"];

export const sessionKeys = {
  all: ["sessions"] as const,
};

/** The account's signed-in sessions (`GET /api/auth/sessions`). */
export function useSessions() {
  return useQuery({
    queryKey: sessionKeys.all,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/auth/sessions", { signal })).items,
  });
}

async function revoke(id: Session["id"]): Promise<void> {
  unwrap(await api.DELETE("/api/auth/sessions/{session_id}", { params: { path: { session_id: id } } }));
}

/** Sign one session out; it leaves the list at once. */
export function useRevokeSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: revoke,
    onSuccess: (_, id) => {
      queryClient.setQueryData<Session[]>(sessionKeys.all, (items) =>
        items?.filter((session) => session.id !== id),
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: sessionKeys.all }),
  });
}

/** Sign out every session except this one, one by one (there is no bulk call that spares it). */
export function useRevokeOtherSessions() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (sessions: readonly Session[]) => {
      for (const session of sessions) {
        if (!session.current) await revoke(session.id);
      }
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: sessionKeys.all }),
  });
}
