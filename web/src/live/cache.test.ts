import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from "vitest";

import { mailKeys } from "@/api/keys";
import type { components } from "@/api/schema";

import { createLiveCache, type LiveCache, type NewMail } from "./cache";

type Folder = components["schemas"]["FolderOut"];

function folder(id: string, unread: number, total: number): Folder {
  return {
    id,
    account_id: "a1",
    name: id,
    display_name: id,
    delimiter: "/",
    role: null,
    selectable: true,
    unread_count: unread,
    total_count: total,
  };
}

const inboxList = mailKeys.threadList({ folder: "inbox" });
const sentList = mailKeys.threadList({ folder: "sent" });

let queryClient: QueryClient;
let cache: LiveCache;
let onNewMail: Mock<(queryClient: QueryClient, data: NewMail) => void>;
let fetches: Map<string, number>;
const unsubscribers: (() => void)[] = [];

/** A query with data and a fetch counter; `watch` keeps it on screen (an active observer). */
function seed(queryKey: readonly unknown[], data: unknown, { watch }: { watch: boolean }) {
  const name = JSON.stringify(queryKey);
  fetches.set(name, 0);
  queryClient.setQueryData(queryKey, data);
  queryClient.setQueryDefaults(queryKey, {
    queryFn: async () => {
      fetches.set(name, (fetches.get(name) ?? 0) + 1);
      return data;
    },
    staleTime: Infinity,
  });
  if (watch) {
    const observer = new QueryObserver(queryClient, { queryKey, staleTime: Infinity });
    unsubscribers.push(observer.subscribe(() => undefined));
  }
}

const fetched = (queryKey: readonly unknown[]) => fetches.get(JSON.stringify(queryKey));
const stale = (queryKey: readonly unknown[]) => queryClient.getQueryState(queryKey)?.isInvalidated;

beforeEach(() => {
  vi.useFakeTimers();
  queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  fetches = new Map();
  onNewMail = vi.fn();
  cache = createLiveCache(queryClient, { onNewMail });
  seed(mailKeys.folders, [folder("f1", 4, 10), folder("f2", 0, 3)], { watch: true });
  seed(inboxList, { pages: [{ items: [], next_cursor: null }], pageParams: [null] }, { watch: true });
  seed(sentList, { pages: [{ items: [], next_cursor: null }], pageParams: [null] }, { watch: false });
  seed(mailKeys.thread("t1"), { id: "t1" }, { watch: true });
  seed(mailKeys.thread("t2"), { id: "t2" }, { watch: false });
  seed(mailKeys.accounts, [], { watch: true });
  seed(mailKeys.notifications, [], { watch: true });
});

afterEach(() => {
  unsubscribers.splice(0).forEach((unsubscribe) => unsubscribe());
  cache.dispose();
  queryClient.clear();
  vi.useRealTimers();
});

describe("live cache", () => {
  it("patches folder counts in place without a refetch", async () => {
    const before = queryClient.getQueryData<Folder[]>(mailKeys.folders);
    cache.apply({ type: "folder.counts", data: { folder_id: "f1", total: 11, unread: 5 } });
    expect(queryClient.getQueryData(mailKeys.folders)).toBe(before);

    await vi.advanceTimersByTimeAsync(100);
    const after = queryClient.getQueryData<Folder[]>(mailKeys.folders) ?? [];
    expect(after[0]).toMatchObject({ id: "f1", unread_count: 5, total_count: 11 });
    // The untouched folder keeps its object, so rows that show it do not re-render.
    expect(after[1]).toBe(before?.[1]);
    expect(fetched(mailKeys.folders)).toBe(0);
  });

  it("fetches the folder list when counts name a folder it does not have", async () => {
    cache.apply({ type: "folder.counts", data: { folder_id: "new", total: 1, unread: 1 } });
    await vi.advanceTimersByTimeAsync(100);
    expect(fetched(mailKeys.folders)).toBe(1);
  });

  it("re-reads everything after ready", async () => {
    cache.apply({ type: "ready", data: { heartbeat_seconds: 25 } });
    await vi.advanceTimersByTimeAsync(100);
    expect(fetched(mailKeys.folders)).toBe(1);
    expect(fetched(inboxList)).toBe(1);
    expect(fetched(mailKeys.thread("t1"))).toBe(1);
    expect(fetched(mailKeys.accounts)).toBe(1);
    expect(fetched(mailKeys.notifications)).toBe(1);
    // Caches not on screen are only marked stale: they refetch when next shown.
    expect(fetched(sentList)).toBe(0);
    expect(stale(sentList)).toBe(true);
    expect(stale(mailKeys.thread("t2"))).toBe(true);
  });

  it("refetches lists and tells the notifier about new mail", async () => {
    cache.apply({
      type: "message.created",
      data: { account_id: "a1", folder_id: "f1", message_ids: [7, 8] },
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(fetched(inboxList)).toBe(1);
    expect(fetched(mailKeys.thread("t1"))).toBe(0);
    expect(onNewMail).toHaveBeenCalledWith(queryClient, {
      account_id: "a1",
      folder_id: "f1",
      message_ids: [7, 8],
    });
  });

  it("coalesces a burst into one refetch per cache and one notice per folder", async () => {
    for (let i = 0; i < 20; i += 1) {
      cache.apply({ type: "message.created", data: { account_id: "a1", folder_id: "f1", message_ids: [i] } });
      cache.apply({ type: "thread.updated", data: { thread_ids: ["t1"] } });
      cache.apply({ type: "folder.counts", data: { folder_id: "f1", total: 10 + i, unread: i } });
    }
    cache.apply({ type: "message.created", data: { account_id: "a1", folder_id: "f2", message_ids: [99] } });
    await vi.advanceTimersByTimeAsync(99);
    expect(fetched(inboxList)).toBe(0);

    await vi.advanceTimersByTimeAsync(1);
    expect(fetched(inboxList)).toBe(1);
    expect(fetched(mailKeys.thread("t1"))).toBe(1);
    expect(queryClient.getQueryData<Folder[]>(mailKeys.folders)?.[0]).toMatchObject({
      unread_count: 19,
      total_count: 29,
    });
    expect(onNewMail).toHaveBeenCalledTimes(2);
    expect(onNewMail.mock.calls[0]?.[1]).toEqual({
      account_id: "a1",
      folder_id: "f1",
      message_ids: Array.from({ length: 20 }, (_, i) => i),
    });
  });

  it("invalidates exactly the threads a thread.updated names", async () => {
    cache.apply({ type: "thread.updated", data: { thread_ids: ["t2"] } });
    await vi.advanceTimersByTimeAsync(100);
    expect(stale(mailKeys.thread("t2"))).toBe(true);
    expect(stale(mailKeys.thread("t1"))).toBe(false);
    expect(fetched(inboxList)).toBe(1);
  });

  it("refetches open threads on message changes", async () => {
    cache.apply({ type: "message.updated", data: { message_ids: [3] } });
    await vi.advanceTimersByTimeAsync(100);
    expect(fetched(mailKeys.thread("t1"))).toBe(1);
    expect(fetched(inboxList)).toBe(1);
    expect(fetched(mailKeys.folders)).toBe(0);
  });

  it("refreshes mailboxes on sync status and the notification centre on notifications", async () => {
    cache.apply({ type: "sync.status", data: { account_id: "a1", state: "idle", error: null } });
    cache.apply({ type: "notification.created", data: { id: "n1" } });
    await vi.advanceTimersByTimeAsync(100);
    expect(fetched(mailKeys.accounts)).toBe(1);
    expect(fetched(mailKeys.notifications)).toBe(1);
    expect(fetched(inboxList)).toBe(0);
  });

  it("ignores unknown events and malformed data", async () => {
    cache.apply({ type: "something.new", data: {} });
    cache.apply({ type: "folder.counts", data: { folder_id: "f1", total: "many", unread: 1 } });
    await vi.advanceTimersByTimeAsync(1000);
    expect(stale(inboxList)).toBe(false);
    expect(stale(mailKeys.folders)).toBe(false);
    expect(queryClient.getQueryData<Folder[]>(mailKeys.folders)?.[0]?.unread_count).toBe(4);
  });

  it("waits for the user's own actions to settle before refetching", async () => {
    let finish: () => void = () => undefined;
    const mutation = queryClient
      .getMutationCache()
      .build(queryClient, { mutationFn: () => new Promise<void>((resolve) => (finish = resolve)) });
    const running = mutation.execute(undefined);
    cache.apply({ type: "message.updated", data: { message_ids: [1] } });
    await vi.advanceTimersByTimeAsync(500);
    expect(fetched(inboxList)).toBe(0);

    finish();
    await running;
    await vi.advanceTimersByTimeAsync(100);
    expect(fetched(inboxList)).toBe(1);
  });
});
