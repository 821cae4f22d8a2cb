import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { mailKeys } from "@/api/keys";
import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";

import { onNewMail, resetAnnounced } from "./desktop";

const ME = { id: "u1", email: "ada@example.com", new_mail_notifications: "all" };
const EVENT = { account_id: "a1", folder_id: "f-inbox", message_ids: [41, 42] };
const JUST_NOW = new Date().toISOString();

function thread(fields: Record<string, unknown> = {}) {
  return {
    id: "t1",
    account_id: "a1",
    subject: "Lunch on Friday?",
    snippet: "Shall we…",
    participants: [{ name: "Bo Berg", address: "bo@example.com" }],
    message_count: 1,
    unread: true,
    unread_count: 1,
    starred: false,
    has_attachments: false,
    last_message_at: JUST_NOW,
    labels: [],
    ...fields,
  };
}

interface Raised {
  title: string;
  options: NotificationOptions;
  onclick: (() => void) | null;
  close: () => void;
}

let raised: Raised[];

function stubBrowser({ permission = "granted", visibility = "hidden" } = {}) {
  raised = [];
  class FakeNotification {
    static permission = permission;
    onclick: (() => void) | null = null;
    close = vi.fn();
    constructor(title: string, options: NotificationOptions) {
      raised.push(Object.assign(this, { title, options }) as unknown as Raised);
    }
  }
  vi.stubGlobal("Notification", FakeNotification);
  Object.defineProperty(document, "visibilityState", { value: visibility, configurable: true });
}

function serve(routes: Parameters<typeof fakeApi>[0]) {
  const api = fakeApi(routes);
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

/** onNewMail works in the background: let it finish before looking. */
async function settle(api: ReturnType<typeof fakeApi>, calls: number) {
  await vi.waitFor(() => expect(api.calls.length).toBeGreaterThanOrEqual(calls));
  await new Promise((resolve) => setTimeout(resolve, 20));
}

let client: QueryClient;

beforeEach(() => {
  authStore.setTokens(TOKENS);
  client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  resetAnnounced();
});

afterEach(() => {
  Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
});

describe("onNewMail", () => {
  it("names the sender and subject, and opens the thread when clicked", async () => {
    stubBrowser();
    const api = serve({ "GET /api/users/me": () => json(ME), "GET /api/threads": () => json({ items: [thread()], next_cursor: null }) });
    const focus = vi.spyOn(window, "focus").mockImplementation(() => undefined);
    const pushState = vi.spyOn(window.history, "pushState");

    onNewMail(client, EVENT);
    await vi.waitFor(() => expect(raised).toHaveLength(1));

    const [notification] = raised;
    expect(notification?.title).toBe("Bo Berg");
    expect(notification?.options.body).toBe("Lunch on Friday?");
    expect(notification?.options.tag).toBe("postwise-new-mail");
    notification?.onclick?.();
    expect(focus).toHaveBeenCalled();
    expect(pushState).toHaveBeenCalledWith(null, "", "/?thread=t1");
    expect(notification?.close).toHaveBeenCalled();

    // The same thread announced again stays quiet.
    onNewMail(client, EVENT);
    await settle(api, 3);
    expect(raised).toHaveLength(1);
  });

  it("stays quiet when the user chose none", async () => {
    stubBrowser();
    const api = serve({ "GET /api/users/me": () => json({ ...ME, new_mail_notifications: "none" }) });
    onNewMail(client, EVENT);
    await settle(api, 1);
    expect(raised).toHaveLength(0);
  });

  it("stays quiet while the page is in view or without permission", async () => {
    stubBrowser({ visibility: "visible" });
    const api = serve({ "GET /api/users/me": () => json(ME) });
    onNewMail(client, EVENT);
    stubBrowser({ permission: "default" });
    onNewMail(client, EVENT);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(api.calls).toHaveLength(0);
    expect(raised).toHaveLength(0);
  });

  it("ignores mail outside the inbox and mail that is not new", async () => {
    stubBrowser();
    client.setQueryData(mailKeys.folders, [
      { id: "f-sent", role: "sent" },
      { id: "f-inbox", role: "inbox" },
    ]);
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
    const api = serve({
      "GET /api/users/me": () => json(ME),
      "GET /api/threads": () => json({ items: [thread({ last_message_at: old })], next_cursor: null }),
    });
    onNewMail(client, { ...EVENT, folder_id: "f-sent" });
    await settle(api, 1);
    expect(api.callsTo("GET", "/api/threads")).toHaveLength(0);
    // Backfilled or imported mail: the newest thread is days old.
    onNewMail(client, EVENT);
    await settle(api, 2);
    expect(raised).toHaveLength(0);
  });

  it("says only 'New mail' when the thread cannot be read", async () => {
    stubBrowser();
    serve({ "GET /api/users/me": () => json(ME), "GET /api/threads": () => problem(500, "internal_error") });
    onNewMail(client, EVENT);
    await vi.waitFor(() => expect(raised).toHaveLength(1));
    expect(raised[0]?.title).toBe("New mail");
  });
});
