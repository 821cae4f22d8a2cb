import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useAuth } from "@/auth/AuthProvider";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type User = Schemas["UserOut"];

export const userKeys = {
  me: ["users", "me"] as const,
};

/** The signed-in user (`GET /api/users/me`); idle while signed out. */
export function useMe() {
  const { status } = useAuth();
  return useQuery({
    queryKey: userKeys.me,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/users/me", { signal })),
    enabled: status === "signed-in",
  });
}

export function useUpdateMe() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["UpdateMe"]) =>
      unwrap(await api.PATCH("/api/users/me", { body })),
    onSuccess: (user) => queryClient.setQueryData(userKeys.me, user),
  });
}
