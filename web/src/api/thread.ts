import {
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import { useMemo } from "react";

import { useAccounts } from "./accounts";
import { api, unwrap } from "./client";
import { mailKeys } from "./keys";
import type { components } from "./schema";
import { useMe } from "./users";

type Schemas = components["schemas"];

export type ThreadDetail = Schemas["ThreadDetail"];
export type Message = Schemas["MessageOut"];
export type Attachment = Schemas["AttachmentOut"];
export type Address = Schemas["AddressOut"];
type ThreadPage = Schemas["ThreadPage"];

async function fetchThread(id: string, signal?: AbortSignal): Promise<ThreadDetail> {
  return unwrap(await api.GET("/api/threads/{thread_id}", { params: { path: { thread_id: id } }, signal }));
}

/** One conversation with every message, oldest first (`GET /api/threads/{id}`). */
export function useThread(id: string) {
  return useQuery({
    queryKey: mailKeys.thread(id),
    queryFn: ({ signal }) => fetchThread(id, signal),
  });
}

/** Load a thread into the cache before it is opened (hover, j/k), so opening it is instant. */
export function prefetchThread(queryClient: QueryClient, id: string): Promise<void> {
  return queryClient.prefetchQuery({
    queryKey: mailKeys.thread(id),
    queryFn: ({ signal }) => fetchThread(id, signal),
  });
}

/** Replace one message inside a cached thread, leaving everything else as it was. */
function patchMessages(
  queryClient: QueryClient,
  threadId: string,
  patch: (message: Message) => Message,
): void {
  queryClient.setQueryData<ThreadDetail>(mailKeys.thread(threadId), (thread) =>
    thread === undefined ? thread : { ...thread, messages: thread.messages.map(patch) },
  );
}

/** Turn remote images on for one message; the server answers with the message re-rendered. */
export function useShowImages() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (message: Pick<Message, "id" | "thread_id">) =>
      unwrap(
        await api.PATCH("/api/messages/{message_id}", {
          params: { path: { message_id: message.id } },
          body: { show_images: true },
        }),
      ),
    onSuccess: (updated, asked) => {
      const threadId = updated.thread_id ?? asked.thread_id;
      if (threadId === null) return;
      patchMessages(queryClient, threadId, (message) => (message.id === updated.id ? updated : message));
    },
  });
}

/**
 * Mark every message of a thread read, as opening it does: the open thread and any list
 * showing it change at once, the server call follows, and lists and folder counts are
 * fetched again afterwards (the unread counts of folders are the server's to compute).
 */
export function useMarkThreadRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (threadId: string) =>
      unwrap(await api.POST("/api/threads/actions", { body: { thread_ids: [threadId], action: "read" } })),
    onMutate: async (threadId) => {
      // A fetch of the thread still in flight would bring the unread flags back; it is
      // cancelled, and made again once the server has the messages read (it may carry news).
      const key = mailKeys.thread(threadId);
      const wasFetching = queryClient.isFetching({ queryKey: key }) > 0;
      await queryClient.cancelQueries({ queryKey: key });
      queryClient.setQueryData<ThreadDetail>(key, (thread) =>
        thread === undefined
          ? thread
          : {
              ...thread,
              unread_count: 0,
              messages: thread.messages.map((m) => (m.is_read ? m : { ...m, is_read: true })),
            },
      );
      queryClient.setQueriesData<InfiniteData<ThreadPage>>({ queryKey: mailKeys.threadLists }, (data) =>
        markReadInLists(data, threadId),
      );
      return { refetchThread: wasFetching };
    },
    onSettled: (_result, error, threadId, context) =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: mailKeys.threadLists }),
        queryClient.invalidateQueries({ queryKey: mailKeys.folders }),
        // After a failure the thread may not be read after all: take the server's word for it.
        (error !== null || context?.refetchThread) &&
          queryClient.invalidateQueries({ queryKey: mailKeys.thread(threadId) }),
      ]),
  });
}

function markReadInLists(
  data: InfiniteData<ThreadPage> | undefined,
  threadId: string,
): InfiniteData<ThreadPage> | undefined {
  // Lists are infinite queries of ThreadPage; anything else under the prefix is left alone.
  if (data === undefined || !Array.isArray(data.pages)) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    if (!Array.isArray(page?.items) || !page.items.some((item) => item.id === threadId)) return page;
    changed = true;
    return {
      ...page,
      items: page.items.map((item) => (item.id === threadId ? { ...item, unread: false, unread_count: 0 } : item)),
    };
  });
  return changed ? { ...data, pages } : data;
}

/**
 * The addresses that count as "me" in a thread (lower-cased): the signed-in user's and every
 * connected mailbox's.
 */
export function useOwnAddresses(): ReadonlySet<string> {
  const email = useMe().data?.email;
  const accounts = useAccounts().data;
  return useMemo(() => {
    const own = new Set<string>();
    if (email) own.add(email.toLowerCase());
    for (const account of accounts ?? []) own.add(account.email.toLowerCase());
    return own;
  }, [email, accounts]);
}

const ATTACHMENT_URL = /^\/api\/messages\/(\d+)\/attachments\/(\d+)$/;

/**
 * An attachment's bytes. The download needs the bearer token, so it goes through the API
 * client (which also refreshes an expired token) rather than a plain link.
 */
export async function fetchAttachment(url: string): Promise<Blob> {
  const match = ATTACHMENT_URL.exec(new URL(url, "http://postwise.invalid").pathname);
  if (match === null) throw new Error("Not an attachment of this app.");
  const result = await api.GET("/api/messages/{message_id}/attachments/{position}", {
    params: { path: { message_id: Number(match[1]), position: Number(match[2]) } },
    parseAs: "blob",
  });
  return unwrap(result) as Blob;
}

/** Hand a blob to the browser through a temporary link; the URL is freed once it is used. */
function followBlob(blob: Blob, setup: (link: HTMLAnchorElement) => void, keepMs: number): void {
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.rel = "noopener";
  link.style.display = "none";
  setup(link);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), keepMs);
}

/** Save an attachment under its own name. */
export async function downloadAttachment(url: string, filename: string): Promise<void> {
  const blob = await fetchAttachment(url);
  followBlob(blob, (link) => (link.download = filename || "attachment"), 1_000);
}

async function fetchRaw(messageId: number): Promise<Blob> {
  const result = await api.GET("/api/messages/{message_id}/raw", {
    params: { path: { message_id: messageId } },
    parseAs: "blob",
  });
  return unwrap(result) as Blob;
}

/**
 * Show a message's original source in a new tab, as plain text: typed text/plain, the
 * browser never renders it as a page, whatever it contains.
 */
export async function openOriginal(messageId: number): Promise<void> {
  const raw = await fetchRaw(messageId);
  const text = new Blob([raw], { type: "text/plain;charset=utf-8" });
  // The new tab loads the blob after this call returns; a minute is ample before freeing it.
  followBlob(text, (link) => (link.target = "_blank"), 60_000);
}

/** Save a message's original source as an .eml file other mail programs can open. */
export async function downloadOriginal(messageId: number): Promise<void> {
  const raw = await fetchRaw(messageId);
  followBlob(new Blob([raw], { type: "message/rfc822" }), (link) => (link.download = "message.eml"), 1_000);
}
