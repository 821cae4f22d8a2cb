import {
  useInfiniteQuery,
  useMutation,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";

import { useAuth } from "@/auth/AuthProvider";

import { api, unwrap } from "./client";
import { mailKeys } from "./keys";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type AppNotification = Schemas["NotificationOut"];
export type NotificationPage = Schemas["NotificationPage"];
/** The cached list: pages of `GET /api/notifications`, newest first. */
export type NotificationPages = InfiniteData<NotificationPage, string | null>;

const PAGE_SIZE = 30;

/**
 * The notification centre's list (`GET /api/notifications`), newest first, with the unread
 * count of the first page; idle while signed out. The live socket invalidates
 * `mailKeys.notifications` on `notification.created`.
 */
export function useNotifications() {
  const { status } = useAuth();
  return useInfiniteQuery<NotificationPage, Error, NotificationPages, typeof mailKeys.notifications, string | null>({
    queryKey: mailKeys.notifications,
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        await api.GET("/api/notifications", {
          params: { query: { limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
    enabled: status === "signed-in",
  });
}

/** How many are unread, as the server last said (the first page carries the total). */
export function unreadCount(data: NotificationPages | undefined): number {
  return data?.pages[0]?.unread_count ?? 0;
}

export type MarkReadRequest = { ids: string[] } | { all: true };

function markInCache(data: NotificationPages, request: MarkReadRequest, now: string): NotificationPages {
  const ids = "ids" in request ? new Set(request.ids) : null;
  let changed = 0;
  const pages = data.pages.map((page) => ({
    ...page,
    items: page.items.map((item) => {
      if (item.read_at !== null || (ids !== null && !ids.has(item.id))) return item;
      changed += 1;
      return { ...item, read_at: now };
    }),
  }));
  return {
    ...data,
    pages: pages.map((page, index) =>
      index === 0
        ? { ...page, unread_count: ids === null ? 0 : Math.max(0, page.unread_count - changed) }
        : page,
    ),
  };
}

function setUnread(queryClient: QueryClient, unread: number) {
  queryClient.setQueryData<NotificationPages>(mailKeys.notifications, (data) =>
    data
      ? { ...data, pages: data.pages.map((page, i) => (i === 0 ? { ...page, unread_count: unread } : page)) }
      : data,
  );
}

/**
 * Mark some (`{ids}`) or every (`{all: true}`) notification read. The list and the count
 * change at once; a failure puts them back.
 */
export function useMarkNotificationsRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: MarkReadRequest) =>
      unwrap(
        await api.POST("/api/notifications/read", {
          body: "ids" in request ? { ids: request.ids, all: false } : { all: true },
        }),
      ),
    onMutate: async (request) => {
      await queryClient.cancelQueries({ queryKey: mailKeys.notifications });
      const previous = queryClient.getQueryData<NotificationPages>(mailKeys.notifications);
      if (previous) {
        queryClient.setQueryData(mailKeys.notifications, markInCache(previous, request, new Date().toISOString()));
      }
      return { previous };
    },
    onError: (_error, _request, context) => {
      if (context?.previous) queryClient.setQueryData(mailKeys.notifications, context.previous);
    },
    onSuccess: (result) => setUnread(queryClient, result.unread_count),
  });
}
