import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { AuthProvider } from "@/auth/AuthProvider";
import { authStore } from "@/auth/store";
import { entry } from "@/components/Outbox/fixtures";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";

import { composeKeys } from "./keys";
import { OUTBOX_POLL_MS, useDraftList, useOutbox, useSaveIdentity } from "./outbox";

function wrapper(client = new QueryClient({ defaultOptions: { queries: { retry: false } } })) {
  return {
    client,
    Wrapper: ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={client}>
        <AuthProvider restore={false}>{children}</AuthProvider>
      </QueryClientProvider>
    ),
  };
}

const summary = (id: string, account: string, status = "draft") => ({
  id,
  account_id: account,
  status,
  mode: "new",
  to: [],
  subject: id,
  snippet: "",
  has_attachments: false,
  thread_id: null,
  updated_at: "2026-01-01T00:00:00Z",
});

beforeEach(() => authStore.setTokens(TOKENS));
afterEach(() => vi.useRealTimers());

describe("useDraftList", () => {
  it("lists drafts only, one mailbox's when asked, from one shared cache", async () => {
    const api = fakeApi({
      "GET /api/drafts": () =>
        json({ items: [summary("d1", "a1"), summary("d2", "a2"), summary("d3", "a1", "queued")] }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const { Wrapper, client } = wrapper();
    const all = renderHook(() => useDraftList(), { wrapper: Wrapper });
    const one = renderHook(() => useDraftList("a1"), { wrapper: Wrapper });
    await waitFor(() => expect(all.result.current.data?.map((item) => item.id)).toEqual(["d1", "d2"]));
    await waitFor(() => expect(one.result.current.data?.map((item) => item.id)).toEqual(["d1"]));
    expect(api.callsTo("GET", "/api/drafts")).toHaveLength(1);
    // The cache holds the API's answer as it came, for the composer to invalidate.
    expect(client.getQueryData(composeKeys.drafts)).toMatchObject({ items: expect.any(Array) });
  });
});

describe("useOutbox", () => {
  it("reads the outbox again while something is on its way, and stops once all is sent", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    const api = fakeApi({
      "GET /api/outbox": [
        () => json({ items: [entry({ id: "o1" })] }),
        () => json({ items: [entry({ id: "o1", status: "sending" })] }),
        () => json({ items: [entry({ id: "o1", status: "sent", sent_at: new Date().toISOString() })] }),
      ],
    });
    vi.stubGlobal("fetch", api.fetch);
    const { Wrapper } = wrapper();
    const { result } = renderHook(() => useOutbox(), { wrapper: Wrapper });
    await vi.waitFor(() => expect(result.current.data?.[0]?.status).toBe("queued"));

    await act(() => vi.advanceTimersByTimeAsync(OUTBOX_POLL_MS));
    await vi.waitFor(() => expect(result.current.data?.[0]?.status).toBe("sending"));
    await act(() => vi.advanceTimersByTimeAsync(OUTBOX_POLL_MS));
    await vi.waitFor(() => expect(result.current.data?.[0]?.status).toBe("sent"));
    expect(api.callsTo("GET", "/api/outbox")).toHaveLength(3);

    await act(() => vi.advanceTimersByTimeAsync(OUTBOX_POLL_MS * 4));
    expect(api.callsTo("GET", "/api/outbox")).toHaveLength(3);
  });
});

describe("useSaveIdentity", () => {
  it("PUTs the identity and keeps the answer for the composer", async () => {
    const saved = { account_id: "a1", email: "ada@example.com", sender_name: "Ada", send_as: [], signature_text: "", signature_html: "" };
    const api = fakeApi({ "PUT /api/accounts/a1/identity": () => json(saved) });
    vi.stubGlobal("fetch", api.fetch);
    const { Wrapper, client } = wrapper();
    const { result } = renderHook(() => useSaveIdentity(), { wrapper: Wrapper });
    await act(() =>
      result.current.mutateAsync({
        accountId: "a1",
        identity: { sender_name: "Ada", send_as: [], signature_text: "", signature_html: "" },
      }),
    );
    expect(api.callsTo("PUT", "/api/accounts/a1/identity")[0]?.body).toEqual({
      sender_name: "Ada",
      send_as: [],
      signature_text: "",
      signature_html: "",
    });
    expect(client.getQueryData(composeKeys.identity("a1"))).toEqual(saved);
  });
});
