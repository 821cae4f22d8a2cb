import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { aiKeys, mailKeys } from "@/api/keys";

import { createLiveCache } from "./cache";

/** `message.triaged`: the assistant has sorted messages (or the user taught it). */

let queryClient: QueryClient;
let fetches: Map<string, number>;
const unsubscribers: (() => void)[] = [];
const THREAD = "7d4b9f8e-2c1a-4e5b-9a3d-6f0e1c2b3a4d";
const OTHER = "0b6a1f3e-8d2c-4a9b-b7e1-5c3d2a1f0e9b";

/** A query on screen that counts its fetches. */
function seed(queryKey: readonly unknown[]) {
  const name = JSON.stringify(queryKey);
  fetches.set(name, 0);
  queryClient.setQueryData(queryKey, { seeded: true });
  queryClient.setQueryDefaults(queryKey, {
    queryFn: async () => {
      fetches.set(name, (fetches.get(name) ?? 0) + 1);
      return { seeded: true };
    },
    staleTime: Infinity,
  });
  unsubscribers.push(new QueryObserver(queryClient, { queryKey, staleTime: Infinity }).subscribe(() => undefined));
}

/** Fetched again since it was seeded. */
const refetched = (queryKey: readonly unknown[]) => (fetches.get(JSON.stringify(queryKey)) ?? 0) > 0;

beforeEach(() => {
  vi.useFakeTimers();
  queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  fetches = new Map();
});

afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  vi.useRealTimers();
});

describe("message.triaged", () => {
  it("refreshes the lists, the thread and its summary, and the assistant's figures, once per window", async () => {
    const onNewMail = vi.fn();
    const onImportantMail = vi.fn();
    const cache = createLiveCache(queryClient, { onNewMail, onImportantMail });
    const keys = [
      mailKeys.threadList({ folder: "inbox", section: "important" }),
      mailKeys.thread(THREAD),
      mailKeys.thread(OTHER),
      aiKeys.summary(THREAD),
      aiKeys.summary(OTHER),
      aiKeys.overview,
      aiKeys.settings,
      mailKeys.dashboard,
    ];
    for (const key of keys) seed(key);

    cache.apply({ type: "message.triaged", data: { message_ids: [1, 2], thread_ids: [THREAD], important_message_ids: [2] } });
    cache.apply({ type: "message.triaged", data: { message_ids: [3], thread_ids: [THREAD], important_message_ids: [3, "x"] } });
    await vi.advanceTimersByTimeAsync(150);

    expect(keys.map(refetched)).toEqual([true, true, false, true, false, true, false, true]);
    expect(onImportantMail).toHaveBeenCalledTimes(1);
    expect(onImportantMail).toHaveBeenCalledWith(queryClient, [2, 3]);
    expect(onNewMail).not.toHaveBeenCalled();
  });

  it("rings for nothing when nothing was important", async () => {
    const onImportantMail = vi.fn();
    const cache = createLiveCache(queryClient, { onNewMail: vi.fn(), onImportantMail });
    cache.apply({ type: "message.triaged", data: { message_ids: [1], thread_ids: [THREAD], important_message_ids: [] } });
    await vi.advanceTimersByTimeAsync(150);
    expect(onImportantMail).not.toHaveBeenCalled();
  });

  it("re-reads every assistant query after a reconnection", async () => {
    const cache = createLiveCache(queryClient, { onNewMail: vi.fn() });
    seed(aiKeys.settings);
    seed(aiKeys.usage(30));
    cache.apply({ type: "ready", data: {} });
    await vi.advanceTimersByTimeAsync(150);
    expect(refetched(aiKeys.settings)).toBe(true);
    expect(refetched(aiKeys.usage(30))).toBe(true);
  });
});
