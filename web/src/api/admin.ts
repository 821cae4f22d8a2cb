import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
} from "@tanstack/react-query";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

/** The admin's user management, invitations and instance settings (`/api/admin/*`). */

export type AdminUser = Schemas["AdminUserOut"];
export type UserPage = Schemas["UserPage"];
export type Invite = Schemas["InviteOut"];
export type InstanceSettings = Schemas["InstanceSettingsOut"];
export type RegistrationMode = InstanceSettings["registration"];

const PAGE = 50;

export const adminKeys = {
  users: ["admin", "users"] as const,
  userSearch: (q: string) => ["admin", "users", q] as const,
  settings: ["admin", "settings"] as const,
};

/** Users matching `q` (name or address), oldest first, 50 at a time. */
export function useAdminUsers(q: string) {
  return useInfiniteQuery({
    queryKey: adminKeys.userSearch(q),
    queryFn: async ({ signal, pageParam }) =>
      unwrap(
        await api.GET("/api/admin/users", {
          params: { query: { q, offset: pageParam, limit: PAGE } },
          signal,
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) =>
      last.offset + last.items.length < last.total ? last.offset + last.items.length : undefined,
    // Typing a search keeps the previous rows on screen until the new ones arrive.
    placeholderData: keepPreviousData,
  });
}

/** Activate, deactivate, make or remove an admin; every cached list shows the change. */
export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, changes }: { id: string; changes: Schemas["AdminUpdate"] }) =>
      unwrap(
        await api.PATCH("/api/admin/users/{user_id}", {
          params: { path: { user_id: id } },
          body: changes,
        }),
      ),
    onSuccess: (user) => {
      client.setQueriesData<InfiniteData<UserPage>>({ queryKey: adminKeys.users }, (data) =>
        data === undefined
          ? data
          : {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((item) => (item.id === user.id ? user : item)),
              })),
            },
      );
    },
  });
}

/** A sign-up link, mailed to `email` when given; the link is shown to copy either way. */
export function useCreateInvite() {
  return useMutation({
    mutationFn: async (email: string | null) =>
      unwrap(await api.POST("/api/admin/invites", { body: { email } })),
  });
}

export function useInstanceSettings() {
  return useQuery({
    queryKey: adminKeys.settings,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/admin/settings", { signal })),
  });
}

/** Who may sign up; null hands the choice back to the server's configuration. */
export function useUpdateRegistration() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (registration: RegistrationMode | null) =>
      unwrap(await api.PUT("/api/admin/settings", { body: { registration } })),
    onSuccess: (settings) => client.setQueryData(adminKeys.settings, settings),
  });
}
