import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import type { Folder, ThreadSummary } from "@/api/mail";
import { authStore } from "@/auth/store";
import { currentUrl, setUrl } from "@/components/Mail/fakeNavigation";
import { MailView } from "@/components/Mail/MailView";
import { resetMailPreferencesCache } from "@/components/Mail/preferences";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

vi.mock("next/navigation", async () => (await import("@/components/Mail/fakeNavigation")).navigationModule);

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const ACCOUNT = "acc-1";
const INBOX: Folder = {
  id: "inbox-id",
  account_id: ACCOUNT,
  name: "INBOX",
  display_name: "INBOX",
  delimiter: "/",
  role: "inbox",
  selectable: true,
  total_count: 3,
  unread_count: 0,
} as Folder;

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
    last_message_at: "2024-03-05T10:00:00Z",
    labels: [{ folder_id: "inbox-id", name: "INBOX", role: "inbox" }],
    ...extra,
  };
}

const IMPORTANT = [thread("t1", { important: true, priority: 0.9, needs_reply: true, category: "work" })];
const OTHER = [thread("t2", { category: "newsletter" }), thread("t3")];

/** The server: `section=` splits the inbox; every request's query is kept. */
function serve() {
  const api = fakeApi({
    "GET /api/accounts": () => json({ items: [{ id: ACCOUNT, email: "me@example.com", display_name: "Me" }] }),
    "GET /api/users/me": () => json({ id: "u1", email: "me@example.com", name: "Me" }),
    "GET /api/folders": () => json({ items: [INBOX] }),
    "GET /api/threads": () => json({ items: [], next_cursor: null }),
    "GET /api/search": () => json({ items: OTHER.slice(0, 1), next_cursor: null }),
  });
  const urls: URL[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
    const url = new URL(request.url);
    urls.push(url);
    if (url.pathname === "/api/threads") {
      const section = url.searchParams.get("section");
      const items = section === "important" ? IMPORTANT : section === "other" ? OTHER : [...IMPORTANT, ...OTHER];
      return json({ items, next_cursor: null });
    }
    return api.fetch(request);
  });
  vi.stubGlobal("fetch", fetch);
  const listCalls = () => urls.filter((url) => url.pathname === "/api/threads").map((url) => url.searchParams.get("section"));
  return { urls, listCalls };
}

const row = (id: string) => document.querySelector<HTMLElement>(`[data-thread-id="${id}"]`);

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
  window.localStorage.clear();
  resetMailPreferencesCache();
  setUrl("/");
  authStore.setTokens(TOKENS);
});

describe("the inbox's assistant bar", () => {
  it("shows the rows' marks: important, category, needs a reply", async () => {
    serve();
    renderWithProviders(<MailView />);
    await waitFor(() => expect(row("t3")).not.toBeNull());
    const first = row("t1")!;
    expect(within(first).getByTitle("Important")).toBeInTheDocument();
    expect(within(first).getByTitle("Needs a reply")).toBeInTheDocument();
    expect(within(first).getByText("Work")).toHaveClass("pw-cat");
    // Said to screen readers as part of the row's link.
    expect(within(first).getByRole("link")).toHaveAccessibleName(expect.stringMatching(/^important, needs reply.*Work/));
    expect(within(row("t2")!).getByText("Newsletter")).toHaveClass("pw-cat");
    expect(within(row("t3")!).queryByTitle("Important")).not.toBeInTheDocument();
  });

  it("splits the inbox into Important and Everything else, and remembers it", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderWithProviders(<MailView />);
    await waitFor(() => expect(row("t3")).not.toBeNull());
    expect(api.listCalls()).toEqual([null]);

    const split = screen.getByRole("button", { name: "Split inbox" });
    expect(split).toHaveAttribute("aria-pressed", "false");
    await user.click(split);
    expect(split).toHaveAttribute("aria-pressed", "true");
    await waitFor(() => expect(row("t2")).toBeNull());
    expect(row("t1")).not.toBeNull();
    expect(api.listCalls().at(-1)).toBe("important");
    expect(JSON.parse(window.localStorage.getItem("postwise.mail.preferences") ?? "{}")).toMatchObject({
      splitInbox: true,
      inboxSection: "important",
    });

    const sections = screen.getByRole("group", { name: "Inbox section" });
    await user.click(within(sections).getByRole("button", { name: "Everything else" }));
    await waitFor(() => expect(row("t2")).not.toBeNull());
    expect(row("t1")).toBeNull();
    expect(api.listCalls().at(-1)).toBe("other");
    expect(screen.getByRole("list", { name: "Inbox · Everything else" })).toBeInTheDocument();
  });

  it("runs a search from a filter chip, and the pressed chip goes back to the inbox", async () => {
    serve();
    const user = userEvent.setup();
    renderWithProviders(<MailView />);
    await waitFor(() => expect(row("t3")).not.toBeNull());
    const filters = screen.getByRole("group", { name: "Filter by" });
    expect(within(filters).getAllByRole("button").map((button) => button.textContent)).toEqual([
      "Needs reply",
      "Important",
      "Personal",
      "Work",
      "Newsletter",
      "Notification",
      "Promotion",
      "Receipt",
      "Calendar",
      "Social",
      "Cold outreach",
    ]);

    await user.click(within(filters).getByRole("button", { name: "Newsletter" }));
    expect(currentUrl().searchParams.get("q")).toBe("category:newsletter");
    expect(await screen.findByRole("heading", { name: "Newsletter" })).toBeInTheDocument();
    const pressed = within(screen.getByRole("group", { name: "Filter by" })).getByRole("button", { name: "Newsletter" });
    expect(pressed).toHaveAttribute("aria-pressed", "true");

    await user.click(pressed);
    expect(currentUrl().searchParams.get("q")).toBeNull();
  });
});
