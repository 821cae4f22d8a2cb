import { configure, fireEvent, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import type { ThreadSummary } from "@/api/mail";
import { authStore } from "@/auth/store";
import { setUrl } from "@/components/Mail/fakeNavigation";
import { MailView } from "@/components/Mail/MailView";
import { message, thread } from "@/components/Thread/fixtures";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ComposeProvider } from "./ComposeProvider";
import { ACCOUNT_ID, draft } from "./fixtures";

vi.mock("next/navigation", async () => (await import("@/components/Mail/fakeNavigation")).navigationModule);
vi.mock("@/components/Thread/ThreadView", () => ({
  ThreadView: ({ threadId, toolbar }: { threadId: string; toolbar?: ReactNode }) => (
    <section aria-label="Open conversation">
      {toolbar}
      <p>Reading {threadId}</p>
    </section>
  ),
}));

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const summary = (id: string): ThreadSummary => ({
  id,
  account_id: ACCOUNT_ID,
  subject: `Subject ${id}`,
  snippet: "",
  participants: [{ name: "Ana", address: "ana@example.com" }],
  message_count: 2,
  unread: false,
  unread_count: 0,
  starred: false,
  has_attachments: false,
  important: false,
  needs_reply: false,
  last_message_at: "2024-03-05T10:00:00Z",
  labels: [{ folder_id: "inbox-id", name: "INBOX", role: "inbox" }],
});

function serve() {
  // Two messages in t1 (7 then 8), and a draft (9) saved into it that nobody answers.
  const detail = (id: string) =>
    thread([message({ id: 7 }), message({ id: 8 }), message({ id: 9, is_draft: true })], { id });
  const api = fakeApi({
    "GET /api/accounts": () => json({ items: [{ id: ACCOUNT_ID, email: "me@example.com", display_name: "Me" }] }),
    "GET /api/users/me": () => json({ id: "u1", email: "me@example.com", name: "Me", send_undo_seconds: 10 }),
    "GET /api/folders": () => json({ items: [] }),
    "GET /api/threads": () => json({ items: [summary("t1"), summary("t2")], next_cursor: null }),
    "GET /api/threads/t1": () => json(detail("t1")),
    "GET /api/threads/t2": () => json(detail("t2")),
    "POST /api/drafts": () => json(draft(), 201),
    [`GET /api/accounts/${ACCOUNT_ID}/identity`]: () => json({ account_id: ACCOUNT_ID, email: "me@example.com", send_as: [] }),
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

const sizes = { clientHeight: 800, clientWidth: 1000 };
beforeAll(() => {
  for (const [name, value] of Object.entries(sizes)) {
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const name of Object.keys(sizes)) delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
});
beforeEach(() => {
  authStore.setTokens(TOKENS);
});

async function renderMail(url: string) {
  setUrl(url);
  const api = serve();
  renderWithProviders(
    <ComposeProvider>
      <MailView />
    </ComposeProvider>,
  );
  await waitFor(() => expect(document.querySelector('[data-thread-id="t2"]')).not.toBeNull());
  return api;
}

const created = (api: ReturnType<typeof serve>) => api.callsTo("POST", "/api/drafts").map((call) => call.body);

describe("compose shortcuts", () => {
  it("c opens a new message", async () => {
    const api = await renderMail("/");
    fireEvent.keyDown(document.body, { key: "c" });
    expect(await screen.findByRole("dialog", { name: "New message" })).toBeInTheDocument();
    await waitFor(() => expect(created(api)).toEqual([{ mode: "new", to: null, subject: null }]));
  });

  it("r, a and f answer the open thread's newest message (not a draft in it)", async () => {
    const api = await renderMail("/?thread=t1");
    await screen.findByText("Reading t1");
    fireEvent.keyDown(document.body, { key: "r" });
    await waitFor(() => expect(created(api)).toEqual([{ mode: "reply", reply_to_message_id: 8 }]));
    // The window has the focus now, and keys typed there are its own: back to the page.
    (document.activeElement as HTMLElement | null)?.blur();
    fireEvent.keyDown(document.body, { key: "a" });
    await waitFor(() => expect(created(api)[1]).toEqual({ mode: "reply_all", reply_to_message_id: 8 }));
    (document.activeElement as HTMLElement | null)?.blur();
    fireEvent.keyDown(document.body, { key: "f" });
    await waitFor(() => expect(created(api)[2]).toEqual({ mode: "forward", forward_of_message_id: 8 }));
    expect(await screen.findAllByRole("dialog")).toHaveLength(3);
  });

  it("r on the focused row (no thread open) answers that row's newest message", async () => {
    const api = await renderMail("/");
    fireEvent.keyDown(document.body, { key: "j" });
    fireEvent.keyDown(document.body, { key: "j" });
    fireEvent.keyDown(document.body, { key: "r" });
    await waitFor(() => expect(created(api)).toEqual([{ mode: "reply", reply_to_message_id: 8 }]));
    expect(api.callsTo("GET", "/api/threads/t2").length).toBeGreaterThan(0);
  });

  it("keys typed inside a compose window stay there", async () => {
    const api = await renderMail("/");
    fireEvent.keyDown(document.body, { key: "c" });
    const dialog = await screen.findByRole("dialog", { name: "New message" });
    fireEvent.keyDown(dialog, { key: "c" });
    fireEvent.keyDown(dialog, { key: "r" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(created(api)).toHaveLength(1);
  });
});
