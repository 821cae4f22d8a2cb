import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { draft, DRAFT_ID } from "@/components/Compose/fixtures";
import { message, thread, THREAD_ID } from "@/components/Thread/fixtures";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { ndjsonStream } from "@/test/ndjson";

import { parseDraftEvent, readDraftEvents, useAiDraft, useAiFeedback, type DraftStreamEvent } from "./ai";
import { composeKeys, mailKeys } from "./keys";
import type { ThreadListData, ThreadSummary } from "./mail";
import type { ThreadDetail } from "./thread";

function setup() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  return { client, wrapper };
}

beforeEach(() => authStore.setTokens(TOKENS));

describe("reading the reply stream", () => {
  it("knows the four kinds of line and ignores others", () => {
    const made = draft({ mode: "reply" });
    expect(parseDraftEvent(JSON.stringify({ type: "draft", draft: made }))).toEqual({ type: "draft", draft: made });
    expect(parseDraftEvent('{"type":"delta","text":"Hi"}')).toEqual({ type: "delta", text: "Hi" });
    expect(parseDraftEvent(JSON.stringify({ type: "done", draft: made, provider: "local", model: "postwise-local" }))).toEqual({
      type: "done",
      draft: made,
      provider: "local",
      model: "postwise-local",
    });
    expect(parseDraftEvent('{"type":"error","code":"provider_failed"}')).toEqual({ type: "error", code: "provider_failed", draft: null });
    expect(parseDraftEvent('{"type":"delta"}')).toBeNull();
    expect(parseDraftEvent('{"type":"later"}')).toBeNull();
    expect(parseDraftEvent("not json")).toBeNull();
  });

  it("puts lines together across pieces, even a character cut in two", async () => {
    const stream = ndjsonStream();
    const events: DraftStreamEvent[] = [];
    const reading = readDraftEvents(stream.response().body!, (event) => events.push(event));
    const line = new TextEncoder().encode('{"type":"delta","text":"Grüße"}\n');
    const cut = line.indexOf(0xc3) + 1; // inside "ü"
    stream.raw(line.slice(0, cut));
    stream.raw(line.slice(cut));
    stream.raw('{"type":"delta","text":" und"}\n{"type":"del');
    stream.raw('ta","text":"!"}');
    stream.end();
    await reading;
    expect(events).toEqual([
      { type: "delta", text: "Grüße" },
      { type: "delta", text: " und" },
      { type: "delta", text: "!" },
    ]);
  });
});

describe("useAiDraft", () => {
  it("shows the text as it arrives, and hands over the saved draft at the end", async () => {
    const stream = ndjsonStream();
    const api = fakeApi({ "POST /api/ai/drafts": () => stream.response() });
    vi.stubGlobal("fetch", api.fetch);
    const onDone = vi.fn();
    const { client, wrapper } = setup();
    const { result } = renderHook(() => useAiDraft({ onDone }), { wrapper });

    act(() => result.current.start({ threadId: THREAD_ID, tone: "friendly", instruction: "  say yes " }));
    expect(result.current.state.phase).toBe("writing");
    await waitFor(() =>
      expect(api.callsTo("POST", "/api/ai/drafts")[0]?.body).toEqual({ thread_id: THREAD_ID, tone: "friendly", instruction: "say yes" }),
    );
    // Signed in as every API call is: the bearer token from memory.
    expect(api.callsTo("POST", "/api/ai/drafts")[0]?.headers.get("Authorization")).toBe(`Bearer ${TOKENS.access_token}`);
    const made = draft({ mode: "reply", thread_id: THREAD_ID });
    act(() => stream.send({ type: "draft", draft: made }));
    act(() => stream.send({ type: "delta", text: "Hi Ana,\n\nYes, " }));
    await waitFor(() => expect(result.current.state.text).toBe("Hi Ana,\n\nYes, "));
    act(() => stream.send({ type: "delta", text: "Friday works." }));
    await waitFor(() => expect(result.current.state.text).toBe("Hi Ana,\n\nYes, Friday works."));
    expect(onDone).not.toHaveBeenCalled();

    const saved = { ...made, text: "Hi Ana,\n\nYes, Friday works.", version: 2 };
    act(() => {
      stream.send({ type: "done", draft: saved, provider: "local", model: "postwise-local" });
      stream.end();
    });
    await waitFor(() => expect(onDone).toHaveBeenCalledWith(saved));
    expect(result.current.state.phase).toBe("done");
    expect(client.getQueryData(composeKeys.draft(DRAFT_ID))).toEqual(saved);
  });

  it("stops on request and deletes the half-made draft", async () => {
    const stream = ndjsonStream();
    const api = fakeApi({
      "POST /api/ai/drafts": () => stream.response(),
      [`DELETE /api/drafts/${DRAFT_ID}`]: () => new Response(null, { status: 204 }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const { wrapper } = setup();
    const { result } = renderHook(() => useAiDraft(), { wrapper });
    act(() => result.current.start({ threadId: THREAD_ID, tone: "neutral" }));
    act(() => stream.send({ type: "draft", draft: draft({ mode: "reply" }) }));
    await waitFor(() => expect(result.current.state.draft).not.toBeNull());

    act(() => result.current.stop());
    expect(result.current.state.phase).toBe("idle");
    await waitFor(() => expect(api.callsTo("DELETE", `/api/drafts/${DRAFT_ID}`)).toHaveLength(1));
  });

  it("says why when the server refuses, and keeps what a failing provider wrote", async () => {
    const stream = ndjsonStream();
    const api = fakeApi({
      "POST /api/ai/drafts": [() => problem(404, "not_found"), () => stream.response()],
    });
    vi.stubGlobal("fetch", api.fetch);
    const { wrapper } = setup();
    const { result } = renderHook(() => useAiDraft(), { wrapper });

    act(() => result.current.start({ threadId: THREAD_ID, tone: "neutral" }));
    await waitFor(() => expect(result.current.state.phase).toBe("failed"));
    expect(result.current.state.error).toBe("That conversation is no longer there.");

    act(() => result.current.start({ threadId: THREAD_ID, tone: "brief" }));
    const partial = draft({ mode: "reply", text: "Hi Ana" });
    act(() => {
      stream.send({ type: "draft", draft: draft({ mode: "reply" }) });
      stream.send({ type: "delta", text: "Hi Ana" });
      stream.send({ type: "error", code: "provider_failed", draft: partial });
      stream.end();
    });
    await waitFor(() => expect(result.current.state.phase).toBe("failed"));
    expect(result.current.state.draft).toEqual(partial);
    expect(result.current.state.text).toBe("Hi Ana");
    expect(result.current.state.error).toMatch(/keeps what it wrote/);
  });
});

describe("useAiFeedback", () => {
  const row = (extra: Partial<ThreadSummary> = {}): ThreadSummary => ({
    id: THREAD_ID,
    account_id: "a1",
    subject: "Quarterly report",
    snippet: "",
    participants: [],
    message_count: 1,
    unread: false,
    unread_count: 0,
    starred: false,
    has_attachments: false,
    important: false,
    needs_reply: false,
    category: "newsletter",
    last_message_at: "2024-03-05T10:15:05Z",
    labels: [],
    ...extra,
  });
  const listKey = mailKeys.threadList({ folder: "inbox" });
  const list = (item: ThreadSummary): ThreadListData => ({ pages: [{ items: [item], next_cursor: null }], pageParams: [null] });

  it("changes the message and its row at once, and keeps the server's answer", async () => {
    let answer!: (response: Response) => void;
    const api = fakeApi({
      "POST /api/ai/feedback": () => new Promise<Response>((resolve) => (answer = resolve)),
    });
    vi.stubGlobal("fetch", api.fetch);
    const { client, wrapper } = setup();
    client.setQueryData(mailKeys.thread(THREAD_ID), thread([message({ id: 7, important: false, category: "newsletter" })]));
    client.setQueryData(listKey, list(row()));
    const onSaved = vi.fn();
    const { result } = renderHook(() => useAiFeedback({ onSaved }), { wrapper });

    act(() => result.current.mutate({ messageId: 7, threadId: THREAD_ID, important: true }));
    await waitFor(() => expect(client.getQueryData<ThreadDetail>(mailKeys.thread(THREAD_ID))?.messages[0]?.important).toBe(true));
    expect(client.getQueryData<ThreadListData>(listKey)?.pages[0]?.items[0]?.important).toBe(true);
    await waitFor(() => expect(api.callsTo("POST", "/api/ai/feedback")[0]?.body).toEqual({ message_id: 7, important: true, category: null }));

    answer(json({ message_id: 7, important: true, category: "work", thread_id: THREAD_ID }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(client.getQueryData<ThreadDetail>(mailKeys.thread(THREAD_ID))?.messages[0]?.category).toBe("work");
  });

  it("puts everything back and says why when the server refuses", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/ai/feedback": () => problem(404, "not_found") }).fetch);
    const { client, wrapper } = setup();
    client.setQueryData(mailKeys.thread(THREAD_ID), thread([message({ id: 7, category: "newsletter" })]));
    client.setQueryData(listKey, list(row()));
    const onError = vi.fn();
    const { result } = renderHook(() => useAiFeedback({ onError }), { wrapper });

    act(() => result.current.mutate({ messageId: 7, threadId: THREAD_ID, category: "work" }));
    await waitFor(() => expect(onError).toHaveBeenCalledWith("That message is no longer there.", expect.anything()));
    expect(client.getQueryData<ThreadDetail>(mailKeys.thread(THREAD_ID))?.messages[0]?.category).toBe("newsletter");
    expect(client.getQueryData<ThreadListData>(listKey)?.pages[0]?.items[0]?.category).toBe("newsletter");
  });
});
