import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, json, problem } from "@/test/fakeApi";

import { mailKeys } from "./keys";
import {
  planUndo,
  undoInputs,
  useThreadAction,
  type Folder,
  type ThreadListData,
  type ThreadSummary,
} from "./mail";

const ACCOUNT = "acc-1";
const folder = (id: string, role: string | null, unread = 0, total = 10): Folder => ({
  id,
  account_id: ACCOUNT,
  name: id.toUpperCase(),
  display_name: id,
  delimiter: "/",
  role,
  selectable: true,
  total_count: total,
  unread_count: unread,
});
const FOLDERS = [folder("inbox-id", "inbox", 3), folder("archive-id", "archive"), folder("sent-id", "sent")];
const label = (id: string, role: string | null) => ({ folder_id: id, name: id.toUpperCase(), role });

function thread(id: string, extra: Partial<ThreadSummary> = {}): ThreadSummary {
  return {
    id,
    account_id: ACCOUNT,
    subject: `Subject ${id}`,
    snippet: "",
    participants: [{ name: "Ana", address: "ana@example.com" }],
    message_count: 1,
    unread: false,
    unread_count: 0,
    starred: false,
    has_attachments: false,
    important: false,
    needs_reply: false,
    last_message_at: "2026-12-01T10:00:00Z",
    labels: [label("inbox-id", "inbox")],
    ...extra,
  };
}

const pages = (...items: ThreadSummary[][]): ThreadListData => ({
  pages: items.map((page, n) => ({ items: page, next_cursor: n < items.length - 1 ? `c${n}` : null })),
  pageParams: items.map((_, n) => (n === 0 ? null : `c${n - 1}`)),
});

const inboxKey = mailKeys.threadList({ folder: "inbox" });
const searchKey = mailKeys.threadList({ folder: "inbox", q: "ana" });

function setup() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  client.setQueryData(mailKeys.folders, FOLDERS);
  client.setQueryData(
    inboxKey,
    pages(
      [thread("t1", { unread: true, unread_count: 2, message_count: 2 }), thread("t2")],
      [thread("t3", { labels: [label("inbox-id", "inbox"), label("sent-id", "sent")] })],
    ),
  );
  client.setQueryData(searchKey, pages([thread("t1", { unread: true, unread_count: 2, message_count: 2 })]));
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  const ids = (key: readonly unknown[]) =>
    client.getQueryData<ThreadListData>(key)?.pages.flatMap((page) => page.items.map((item) => item.id));
  const inboxUnread = () => client.getQueryData<Folder[]>(mailKeys.folders)?.find((f) => f.id === "inbox-id")?.unread_count;
  return { client, wrapper, ids, inboxUnread };
}

function deferred() {
  let resolve: (response: Response) => void = () => undefined;
  const promise = new Promise<Response>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe("useThreadAction", () => {
  it("archives at once: the row leaves the inbox and the count drops before the server answers", async () => {
    const answer = deferred();
    const server = fakeApi({ "POST /api/threads/actions": () => answer.promise });
    vi.stubGlobal("fetch", server.fetch);
    const { client, wrapper, ids, inboxUnread } = setup();
    const { result } = renderHook(() => useThreadAction(), { wrapper });

    act(() => result.current.mutate({ action: "archive", threadIds: ["t1"] }));

    await waitFor(() => expect(ids(inboxKey)).toEqual(["t2", "t3"]));
    expect(inboxUnread()).toBe(1);
    // Search results still show an archived conversation (it still matches), with its new folder.
    expect(ids(searchKey)).toEqual(["t1"]);
    expect(client.getQueryData<ThreadListData>(searchKey)?.pages[0]?.items[0]?.labels).toEqual([
      { folder_id: "archive-id", name: "ARCHIVE-ID", role: "archive" },
    ]);
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toEqual({ thread_ids: ["t1"], action: "archive", folder: null, source_folder: null });

    answer.resolve(json({ thread_ids: ["t1"], message_count: 2 }));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(ids(inboxKey)).toEqual(["t2", "t3"]);
    expect(client.getQueryState(inboxKey)?.isInvalidated).toBe(true);
    expect(client.getQueryState(mailKeys.folders)?.isInvalidated).toBe(true);
  });

  it("rolls every cache back when the server refuses, and says why", async () => {
    const server = fakeApi({
      "POST /api/threads/actions": () =>
        problem(409, "no_such_folder", { detail: "This mailbox has no archive folder." }),
    });
    vi.stubGlobal("fetch", server.fetch);
    const { wrapper, ids, inboxUnread } = setup();
    const onError = vi.fn();
    const { result } = renderHook(() => useThreadAction({ onError }), { wrapper });

    act(() => result.current.mutate({ action: "archive", threadIds: ["t1", "t2"] }));

    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(ids(inboxKey)).toEqual(["t1", "t2", "t3"]);
    expect(inboxUnread()).toBe(3);
    expect(onError).toHaveBeenCalledWith("This mailbox has no archive folder.", expect.objectContaining({ action: "archive" }));
  });

  it("marks read in every list and in the folder counts", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/threads/actions": () => json({ thread_ids: ["t1"], message_count: 2 }) }).fetch);
    const { client, wrapper, inboxUnread } = setup();
    const { result } = renderHook(() => useThreadAction(), { wrapper });

    act(() => result.current.mutate({ action: "read", threadIds: ["t1"] }));

    await waitFor(() => expect(inboxUnread()).toBe(1));
    for (const key of [inboxKey, searchKey]) {
      const row = client.getQueryData<ThreadListData>(key)?.pages[0]?.items[0];
      expect(row).toMatchObject({ id: "t1", unread: false, unread_count: 0 });
    }
  });
});

describe("undo", () => {
  it("moves archived threads back to the inbox they came from, into their old places", async () => {
    const server = fakeApi({ "POST /api/threads/actions": (call) => json({ thread_ids: (call.body as { thread_ids: string[] }).thread_ids, message_count: 1 }) });
    vi.stubGlobal("fetch", server.fetch);
    const { client, wrapper, ids } = setup();
    const { result } = renderHook(() => useThreadAction(), { wrapper });

    const input = { action: "archive" as const, threadIds: ["t1", "t3"] };
    const plan = planUndo(client, input, { folder: "inbox" });
    // Back to the inbox, and only what the archive put in Archive (not the threads' Sent copies).
    expect(plan).toMatchObject({
      kind: "move",
      moves: [{ folder: "inbox-id", from: "archive-id", threadIds: ["t1", "t3"] }],
    });

    act(() => result.current.mutate(input));
    await waitFor(() => expect(ids(inboxKey)).toEqual(["t2"]));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));

    for (const step of undoInputs(plan!)) act(() => result.current.mutate(step));
    await waitFor(() => expect(ids(inboxKey)).toEqual(["t1", "t2", "t3"]));
    await waitFor(() => expect(server.calls).toHaveLength(2));
    expect(server.calls[1]?.body).toEqual({
      thread_ids: ["t1", "t3"],
      action: "move",
      folder: "inbox-id",
      source_folder: "archive-id",
    });
  });

  it("undoes a flag with its opposite, and cannot undo a permanent delete", () => {
    const { client } = setup();
    expect(planUndo(client, { action: "star", threadIds: ["t2"] })).toEqual({ kind: "flag", action: "unstar", threadIds: ["t2"] });
    expect(planUndo(client, { action: "delete", threadIds: ["t2"] })).toBeNull();
  });
});
