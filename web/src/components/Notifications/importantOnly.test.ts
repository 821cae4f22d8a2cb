import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";

import { onImportantMail, onNewMail, resetAnnounced } from "./desktop";

/** "Important mail only": desktop notifications follow `message.triaged`, not `message.created`. */

const JUST_NOW = new Date().toISOString();
const me = (choice: string) => ({ id: "u1", email: "ada@example.com", new_mail_notifications: choice });
const thread = {
  id: "t9",
  account_id: "a1",
  subject: "Contract to sign today",
  snippet: "",
  participants: [{ name: "Dana Diaz", address: "dana@example.com" }],
  message_count: 1,
  unread: true,
  unread_count: 1,
  starred: false,
  has_attachments: false,
  important: true,
  needs_reply: true,
  last_message_at: JUST_NOW,
  labels: [],
};

let raised: { title: string; options: NotificationOptions }[];
let client: QueryClient;
const urls: URL[] = [];

function stubBrowser() {
  raised = [];
  class FakeNotification {
    static permission = "granted";
    onclick: (() => void) | null = null;
    close = vi.fn();
    constructor(title: string, options: NotificationOptions) {
      raised.push({ title, options });
    }
  }
  vi.stubGlobal("Notification", FakeNotification);
  Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
}

function serve(choice: string) {
  const api = fakeApi({
    "GET /api/users/me": () => json(me(choice)),
    "GET /api/threads": () => json({ items: [thread], next_cursor: null }),
  });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: Request) => {
      urls.push(new URL(input.url));
      return api.fetch(input);
    }),
  );
  return api;
}

async function settle(api: ReturnType<typeof fakeApi>, calls: number) {
  await vi.waitFor(() => expect(api.calls.length).toBeGreaterThanOrEqual(calls));
  await new Promise((resolve) => setTimeout(resolve, 20));
}

beforeEach(() => {
  authStore.setTokens(TOKENS);
  client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  resetAnnounced();
  urls.length = 0;
  stubBrowser();
});

afterEach(() => {
  Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
});

describe("important mail only", () => {
  it("rings for the newest important thread once the assistant finds mail important", async () => {
    serve("important");
    onImportantMail(client, [77]);
    await vi.waitFor(() => expect(raised).toHaveLength(1));
    expect(raised[0]).toMatchObject({ title: "Dana Diaz", options: { body: "Contract to sign today" } });
    const list = urls.find((url) => url.pathname === "/api/threads");
    expect(Object.fromEntries(list?.searchParams ?? [])).toEqual({ folder: "inbox", section: "important", limit: "1" });
  });

  it("stays quiet on new mail that is not (yet) important", async () => {
    const api = serve("important");
    onNewMail(client, { account_id: "a1", folder_id: "f-inbox", message_ids: [77] });
    await settle(api, 1);
    expect(raised).toHaveLength(0);
    expect(api.callsTo("GET", "/api/threads")).toHaveLength(0);
  });

  it("leaves triage alone for those who want all mail, or none", async () => {
    for (const choice of ["all", "none"]) {
      const api = serve(choice);
      client.clear();
      onImportantMail(client, [77]);
      await settle(api, 1);
      expect(api.callsTo("GET", "/api/threads")).toHaveLength(0);
    }
    expect(raised).toHaveLength(0);
  });
});
