import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { AuthProvider } from "@/auth/AuthProvider";
import { authStore } from "@/auth/store";
import { DRAFT_ID, draft, FakeXhr } from "@/components/Compose/fixtures";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";

import { ApiError } from "./client";
import {
  forgetDraft,
  rememberDraft,
  summaryOf,
  uploadAttachment,
  useCancelSend,
  useContacts,
  useUpdateDraft,
  type DraftList,
} from "./compose";
import { composeKeys } from "./keys";

const ATTACHMENT = { position: 0, filename: "a.txt", content_type: "text/plain", size: 1, is_inline: false, content_id: null };

function setup() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>
      <AuthProvider restore={false}>{children}</AuthProvider>
    </QueryClientProvider>
  );
  return { client, wrapper };
}

beforeEach(() => {
  authStore.setTokens(TOKENS);
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
});
afterEach(() => FakeXhr.reset());

describe("uploadAttachment", () => {
  it("posts the file as multipart with the bearer token and reports progress", async () => {
    const progress = vi.fn();
    const file = new File(["hello"], "a.txt", { type: "text/plain" });
    const done = uploadAttachment(DRAFT_ID, file, { inline: true, onProgress: progress });
    const xhr = FakeXhr.last!;
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toMatch(new RegExp(`/api/drafts/${DRAFT_ID}/attachments$`));
    expect(xhr.headers.Authorization).toBe("Bearer access-1");
    expect(xhr.body?.get("inline")).toBe("true");
    expect((xhr.body?.get("file") as File).name).toBe("a.txt");
    xhr.progress(3, 5);
    expect(progress).toHaveBeenCalledWith(3, 5);
    xhr.respond(201, ATTACHMENT);
    await expect(done).resolves.toEqual(ATTACHMENT);
  });

  it("refreshes an expired token once and uploads again with the new one", async () => {
    const api = fakeApi({ "POST /api/auth/refresh": () => json({ ...TOKENS, access_token: "access-2" }) });
    vi.stubGlobal("fetch", api.fetch);
    const done = uploadAttachment(DRAFT_ID, new File(["x"], "a.txt"));
    FakeXhr.last!.respond(401, { code: "token_expired" });
    await waitFor(() => expect(FakeXhr.all).toHaveLength(2));
    expect(FakeXhr.all[1]!.headers.Authorization).toBe("Bearer access-2");
    FakeXhr.all[1]!.respond(201, ATTACHMENT);
    await expect(done).resolves.toEqual(ATTACHMENT);
    expect(api.callsTo("POST", "/api/auth/refresh")).toHaveLength(1);
  });

  it("throws the problem of a refused upload, and an AbortError when cancelled", async () => {
    const refused = uploadAttachment(DRAFT_ID, new File(["x"], "big.bin"));
    FakeXhr.last!.respond(413, { code: "attachment_too_large", detail: "Too big." });
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(413);

    const controller = new AbortController();
    const cancelled = uploadAttachment(DRAFT_ID, new File(["x"], "b.bin"), { signal: controller.signal });
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("compose hooks", () => {
  it("saves with the version and keeps the answer as the draft's cache", async () => {
    const api = fakeApi({ [`PATCH /api/drafts/${DRAFT_ID}`]: () => json(draft({ subject: "Hi", version: 4 })) });
    vi.stubGlobal("fetch", api.fetch);
    const { client, wrapper } = setup();
    const { result } = renderHook(() => useUpdateDraft(), { wrapper });
    await act(() => result.current.mutateAsync({ id: DRAFT_ID, body: { version: 3, subject: "Hi" } }));
    expect(api.calls[0]?.body).toEqual({ version: 3, subject: "Hi" });
    expect(client.getQueryData(composeKeys.draft(DRAFT_ID))).toMatchObject({ version: 4 });
  });

  it("surfaces a version conflict as its problem code", async () => {
    vi.stubGlobal("fetch", fakeApi({ [`PATCH /api/drafts/${DRAFT_ID}`]: () => problem(409, "draft_conflict") }).fetch);
    const { wrapper } = setup();
    const { result } = renderHook(() => useUpdateDraft(), { wrapper });
    const error = await result.current.mutateAsync({ id: DRAFT_ID, body: { version: 1 } }).catch((caught: unknown) => caught);
    expect((error as ApiError).problem).toMatchObject({ code: "draft_conflict" });
  });

  it("cancels a send, answering the draft, and refreshes the outbox", async () => {
    const api = fakeApi({ [`POST /api/outbox/${DRAFT_ID}/cancel`]: () => json(draft({ subject: "Back" })) });
    vi.stubGlobal("fetch", api.fetch);
    const { client, wrapper } = setup();
    client.setQueryData(composeKeys.outbox, { items: [] });
    const { result } = renderHook(() => useCancelSend(), { wrapper });
    const back = await act(() => result.current.mutateAsync(DRAFT_ID));
    expect(back.subject).toBe("Back");
    expect(client.getQueryState(composeKeys.outbox)?.isInvalidated).toBe(true);
  });

  it("asks the address book only for something typed", async () => {
    const api = fakeApi({ "GET /api/contacts": () => json({ items: [{ name: "Ana", address: "ana@x.org", sent_count: 1, received_count: 0, last_seen_at: "2026-12-01T00:00:00Z" }] }) });
    vi.stubGlobal("fetch", api.fetch);
    const { wrapper } = setup();
    const { result, rerender } = renderHook(({ q }) => useContacts(q), { wrapper, initialProps: { q: " " } });
    expect(result.current.fetchStatus).toBe("idle");
    rerender({ q: "an" });
    await waitFor(() => expect(result.current.data).toHaveLength(1));
    expect(new URL((api.fetch.mock.calls[0]![0] as Request).url).searchParams.get("q")).toBe("an");
  });
});

describe("the Drafts list after a save", () => {
  it("changes the saved draft's row in place, newest first; a new or deleted draft changes the list", () => {
    const client = new QueryClient();
    const other = summaryOf(draft({ id: "other", subject: "Other" }));
    client.setQueryData<DraftList>(composeKeys.drafts, { items: [other, summaryOf(draft({ subject: "Old" }))] });

    rememberDraft(client, draft({ subject: "New subject", text: "Hello  there\n\nBo" }));
    const list = client.getQueryData<DraftList>(composeKeys.drafts)!;
    expect(list.items.map((item) => [item.id, item.subject, item.snippet])).toEqual([
      [DRAFT_ID, "New subject", "Hello there Bo"],
      ["other", "Other", ""],
    ]);
    expect(client.getQueryState(composeKeys.drafts)?.isInvalidated).toBe(false);

    rememberDraft(client, draft({ id: "fresh" }));
    expect(client.getQueryState(composeKeys.drafts)?.isInvalidated).toBe(true);

    forgetDraft(client, DRAFT_ID);
    expect(client.getQueryData<DraftList>(composeKeys.drafts)!.items.map((item) => item.id)).toEqual(["fresh", "other"]);
  });
});
