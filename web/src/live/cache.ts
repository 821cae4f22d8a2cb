import type { QueryClient } from "@tanstack/react-query";

import { aiKeys, mailKeys } from "@/api/keys";
import type { components } from "@/api/schema";

import type { LiveEvent } from "./socket";

/**
 * Live events applied to the TanStack Query cache. A sync announces mail in bursts (a
 * `message.created`, a `thread.updated` and a `folder.counts` per batch, per folder), so events
 * are gathered for a short window and each affected cache is refetched once per window rather
 * than once per event. Folder counts carry their new values and are patched in place; the rest
 * are hints that invalidate (only lists and threads on screen refetch at once).
 */

type Folder = components["schemas"]["FolderOut"];

export interface NewMail {
  account_id: string;
  folder_id: string;
  message_ids: number[];
}

export interface LiveCacheOptions {
  /** Called once per folder with new mail in a window, after the lists were invalidated. */
  onNewMail: (queryClient: QueryClient, data: NewMail) => void;
  /** Called once per window with the messages the assistant found important. */
  onImportantMail?: (queryClient: QueryClient, messageIds: number[]) => void;
  /** How long events are gathered before the cache is touched. */
  windowMs?: number;
  /** How long a flush may wait for the user's own actions (mutations) to settle. */
  maxDeferMs?: number;
}

export interface LiveCache {
  apply(event: LiveEvent): void;
  /** Apply everything gathered so far now. */
  flush(): void;
  dispose(): void;
}

interface Batch {
  everything: boolean;
  counts: Map<string, { total: number; unread: number }>;
  lists: boolean;
  /** Any cached thread may hold the changed messages (events name messages, not threads). */
  allThreads: boolean;
  threads: Set<string>;
  accounts: boolean;
  notifications: boolean;
  dashboard: boolean;
  /** The assistant's figures (the dashboard's widgets). */
  assistant: boolean;
  /** Threads whose summary the assistant may have redone. */
  summaries: Set<string>;
  newMail: Map<string, NewMail>;
  important: number[];
}

function emptyBatch(): Batch {
  return {
    everything: false,
    counts: new Map(),
    lists: false,
    allThreads: false,
    threads: new Set(),
    accounts: false,
    notifications: false,
    dashboard: false,
    assistant: false,
    summaries: new Set(),
    newMail: new Map(),
    important: [],
  };
}

const isString = (value: unknown): value is string => typeof value === "string";
const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 0;

function messageIds(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((id): id is number => Number.isInteger(id)) : [];
}

/** Every cached thread: mailKeys.thread(id) without its id. */
const THREAD_DETAILS = mailKeys.thread("").slice(0, 1);

/** Record what an event changes; false for events this client does not know (ignored). */
function gather(batch: Batch, { type, data }: LiveEvent): boolean {
  switch (type) {
    case "ready":
      // Whatever happened while the socket was away was not delivered: re-read it all.
      batch.everything = true;
      return true;
    case "folder.counts": {
      const { folder_id: id, total, unread } = data;
      if (!isString(id) || !isCount(total) || !isCount(unread)) return false;
      batch.counts.set(id, { total, unread });
      return true;
    }
    case "message.created": {
      const { account_id: account, folder_id: folder } = data;
      batch.lists = true;
      batch.dashboard = true;
      if (isString(account) && isString(folder)) {
        const key = `${account}/${folder}`;
        const ids = messageIds(data.message_ids);
        const known = batch.newMail.get(key);
        if (known) known.message_ids.push(...ids);
        else batch.newMail.set(key, { account_id: account, folder_id: folder, message_ids: ids });
      }
      return true;
    }
    case "message.updated":
    case "message.deleted":
      batch.lists = true;
      batch.allThreads = true;
      return true;
    case "thread.updated":
      batch.lists = true;
      for (const id of Array.isArray(data.thread_ids) ? data.thread_ids : []) {
        if (isString(id)) batch.threads.add(id);
      }
      return true;
    case "message.triaged":
      // Triage sets the rows' category, importance and needs-reply, and may move threads
      // between the inbox's sections; a message joining a thread redoes its summary.
      batch.lists = true;
      batch.dashboard = true;
      batch.assistant = true;
      for (const id of Array.isArray(data.thread_ids) ? data.thread_ids : []) {
        if (!isString(id)) continue;
        batch.threads.add(id);
        batch.summaries.add(id);
      }
      batch.important.push(...messageIds(data.important_message_ids));
      return true;
    case "sync.status":
      // A mailbox that recovers marks its "stopped syncing" notification read on the server
      // without a notification event of its own.
      batch.accounts = true;
      batch.notifications = true;
      return true;
    case "account.updated":
      batch.accounts = true;
      return true;
    case "notification.created":
      batch.notifications = true;
      return true;
    default:
      return false;
  }
}

/** Patch folder counts in place; true if some folder was not in the cached list. */
function patchCounts(queryClient: QueryClient, counts: Batch["counts"]): boolean {
  let missing = false;
  const cached = queryClient.getQueriesData<Folder[]>({ queryKey: mailKeys.folders });
  for (const [key, folders] of cached) {
    if (!Array.isArray(folders)) continue;
    let changed = false;
    const patched = folders.map((folder) => {
      const count = counts.get(folder.id);
      if (count === undefined) return folder;
      if (folder.total_count === count.total && folder.unread_count === count.unread) return folder;
      changed = true;
      return { ...folder, total_count: count.total, unread_count: count.unread };
    });
    if (changed) queryClient.setQueryData(key, patched);
    const ids = new Set(folders.map((folder) => folder.id));
    if ([...counts.keys()].some((id) => !ids.has(id))) missing = true;
  }
  return missing;
}

function applyBatch(queryClient: QueryClient, batch: Batch, options: LiveCacheOptions): void {
  // A folder the list does not know yet (just created on the server): fetch the list again.
  const unknownFolder = batch.counts.size > 0 && patchCounts(queryClient, batch.counts);
  const invalidate = (queryKey: readonly unknown[]) => {
    // Only what is on screen refetches now; the rest is marked stale for its next use.
    void queryClient.invalidateQueries({ queryKey, refetchType: "active" });
  };
  const all = batch.everything;
  if (all || unknownFolder) invalidate(mailKeys.folders);
  if (all || batch.lists) invalidate(mailKeys.threadLists);
  if (all || batch.allThreads) invalidate(THREAD_DETAILS);
  else for (const id of batch.threads) invalidate(mailKeys.thread(id));
  if (all || batch.accounts) invalidate(mailKeys.accounts);
  if (all || batch.notifications) invalidate(mailKeys.notifications);
  if (all || batch.dashboard) invalidate(mailKeys.dashboard);
  if (all) invalidate(aiKeys.all);
  else {
    if (batch.assistant) invalidate(aiKeys.overview);
    for (const id of batch.summaries) invalidate(aiKeys.summary(id));
  }
  for (const mail of batch.newMail.values()) {
    try {
      options.onNewMail(queryClient, mail);
    } catch {
      // A notification that cannot be shown must not stop the cache updates.
    }
  }
  if (batch.important.length > 0) {
    try {
      options.onImportantMail?.(queryClient, batch.important);
    } catch {
      // As above: a notification is a courtesy.
    }
  }
}

export function createLiveCache(queryClient: QueryClient, options: LiveCacheOptions): LiveCache {
  const windowMs = options.windowMs ?? 100;
  const maxDeferMs = options.maxDeferMs ?? 2_000;
  let batch = emptyBatch();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let deferredFor = 0;

  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    // A refetch landing while an action (archive, star…) is still on its way would show the
    // old state for a moment; wait for the user's own changes, but not forever.
    if (queryClient.isMutating() > 0 && deferredFor < maxDeferMs) {
      deferredFor += windowMs;
      timer = setTimeout(flush, windowMs);
      return;
    }
    deferredFor = 0;
    const current = batch;
    batch = emptyBatch();
    applyBatch(queryClient, current, options);
  };

  return {
    apply(event) {
      if (!gather(batch, event)) return;
      timer ??= setTimeout(flush, windowMs);
    },
    flush,
    dispose() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      batch = emptyBatch();
    },
  };
}
