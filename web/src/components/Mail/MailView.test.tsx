import { act, configure, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import type { Folder, ThreadSummary } from "@/api/mail";
import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { currentUrl, fakeRouter, setUrl } from "./fakeNavigation";
import { MailView } from "./MailView";

vi.mock("next/navigation", async () => (await import("./fakeNavigation")).navigationModule);
vi.mock("@/components/Thread/ThreadView", () => ({
  ThreadView: ({ threadId, toolbar }: { threadId: string; toolbar?: ReactNode }) => (
    <section aria-label="Open conversation">
      {toolbar}
      <p>Reading {threadId}</p>
    </section>
  ),
}));
vi.mock("@/components/FirstRun/FirstRun", () => ({ FirstRun: () => <p>Add your first mailbox</p> }));

const ACCOUNT = "acc-1";
const ME = "me@example.com";
const folder = (id: string, role: string | null, unread = 0): Folder => ({
  id,
  account_id: ACCOUNT,
  name: id,
  display_name: id,
  delimiter: "/",
  role,
  selectable: true,
  total_count: 20,
  unread_count: unread,
});
const FOLDERS = [folder("inbox-id", "inbox", 2), folder("archive-id", "archive"), folder("Clients", null)];

function thread(n: number, extra: Partial<ThreadSummary> = {}): ThreadSummary {
  return {
    id: `t${n}`,
    account_id: ACCOUNT,
    subject: `Subject ${n}`,
    snippet: `Snippet ${n}`,
    participants: [{ name: `Person ${n}`, address: `p${n}@example.com` }],
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

const THREADS = [
  thread(1, {
    participants: [
      { name: "Ana Lima", address: "ana@example.com" },
      { name: "Me", address: ME },
    ],
    message_count: 3,
    unread: true,
    unread_count: 1,
    has_attachments: true,
    labels: [
      { folder_id: "inbox-id", name: "INBOX", role: "inbox" },
      { folder_id: "Clients", name: "Clients", role: null },
    ],
  }),
  thread(2),
  thread(3, { starred: true }),
  thread(4),
];

interface ActionBody {
  thread_ids: string[];
  action: string;
  folder: string | null;
}

/** The server's side: the inbox changes with the actions it accepts, as the real one would. */
function server(refuse?: () => Response, threads: ThreadSummary[] = THREADS) {
  let inbox = threads.map((item) => ({ ...item }));
  const archived = new Map<string, ThreadSummary>();
  const apply = ({ thread_ids: ids, action }: ActionBody) => {
    const flags: Record<string, Partial<ThreadSummary>> = {
      star: { starred: true },
      unstar: { starred: false },
      read: { unread: false, unread_count: 0 },
      unread: { unread: true, unread_count: 1 },
    };
    if (action === "archive") {
      for (const item of inbox) if (ids.includes(item.id)) archived.set(item.id, item);
      inbox = inbox.filter((item) => !ids.includes(item.id));
    } else if (action === "move") {
      inbox = threads.filter((item) => inbox.some((kept) => kept.id === item.id) || ids.includes(item.id));
    } else {
      inbox = inbox.map((item) => (ids.includes(item.id) ? { ...item, ...flags[action] } : item));
    }
  };
  const api = fakeApi({
    "GET /api/accounts": () =>
      json({ items: [{ id: ACCOUNT, email: ME, display_name: "Me", counts: { folders: 3, messages: 4, unread: 2 } }] }),
    "GET /api/users/me": () => json({ id: "u1", email: ME, name: "Me" }),
    "GET /api/folders": () => json({ items: FOLDERS }),
    "GET /api/threads": () => json({ items: inbox, next_cursor: null }),
    "POST /api/threads/actions": (call) => {
      if (refuse) return refuse();
      const body = call.body as ActionBody;
      apply(body);
      return json({ thread_ids: body.thread_ids, message_count: body.thread_ids.length });
    },
  });
  /** New mail: a conversation arrives at the top of the inbox. */
  const arrive = (item: ThreadSummary) => {
    inbox = [item, ...inbox];
  };
  return { ...api, arrive };
}

function rows() {
  return within(screen.getByRole("list", { name: "Inbox" })).getAllByRole("listitem");
}
const row = (id: string) => document.querySelector<HTMLElement>(`[data-thread-id="${id}"]`);
const actionBodies = (api: ReturnType<typeof server>) =>
  api.callsTo("POST", "/api/threads/actions").map((call) => call.body);

// The virtualiser renders what fits in its scroll container; the test DOM lays nothing out.
const sizes = { clientHeight: 800, clientWidth: 1000 };
beforeAll(() => {
  for (const [name, value] of Object.entries(sizes)) {
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const name of Object.keys(sizes)) delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
});
afterEach(() => {
  // Set by the scrolling test only.
  for (const name of ["scrollTo", "scrollHeight"]) delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
});
beforeEach(() => {
  setUrl("/");
  fakeRouter.push.mockClear();
  authStore.setTokens(TOKENS);
});

async function renderInbox(api = server()) {
  vi.stubGlobal("fetch", api.fetch);
  renderWithProviders(<MailView />);
  await waitFor(() => expect(row("t4")).not.toBeNull());
  return api;
}

// Rendering MUI in the test DOM is slow on a busy machine; these are whole-screen tests.
vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

describe("MailView", () => {
  it("lists conversations: senders with 'me' and the count, unread marks, labels, dates", async () => {
    await renderInbox();
    expect(rows()).toHaveLength(4);
    const first = row("t1")!;
    expect(first).toHaveTextContent("Ana, me (3)");
    expect(first).toHaveTextContent("Subject 1");
    expect(first).toHaveTextContent("— Snippet 1");
    expect(first).toHaveAttribute("data-unread", "true");
    expect(within(first).getByTitle("Has attachments")).toBeInTheDocument();
    expect(within(first).getByText("Clients")).toHaveClass("pw-label");
    expect(row("t2")).not.toHaveAttribute("data-unread");
    expect(within(row("t2")!).getByRole("time")).toHaveAttribute("datetime", "2024-03-05T10:00:00Z");
    expect(within(row("t3")!).getByRole("button", { name: "Unstar Subject 3" })).toHaveAttribute("aria-pressed", "true");
    await waitFor(() => expect(document.title).toBe("Inbox (2) — Postwise"));
  });

  it("selects a range with Shift-click and archives it, with Undo", async () => {
    const api = await renderInbox();
    const user = userEvent.setup();
    fireEvent.click(screen.getByRole("checkbox", { name: "Select Subject 1" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Select Subject 3" }), { shiftKey: true });
    expect(screen.getByText("3 selected")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Archive" }));
    await waitFor(() => expect(rows().map((item) => item.dataset.threadId)).toEqual(["t4"]));
    await waitFor(() => expect(screen.getByText("Archived 3 conversations")).toBeInTheDocument());
    await waitFor(() =>
      expect(actionBodies(api)).toEqual([{ thread_ids: ["t1", "t2", "t3"], action: "archive", folder: null, source_folder: null }]),
    );

    await user.click(screen.getByRole("button", { name: "Undo" }));
    await waitFor(() => expect(rows().map((item) => item.dataset.threadId)).toEqual(["t1", "t2", "t3", "t4"]));
    await waitFor(() =>
      expect(actionBodies(api)[1]).toEqual({ thread_ids: ["t1", "t2", "t3"], action: "move", folder: "inbox-id", source_folder: "archive-id" }),
    );
  });

  it("puts the row back when the server refuses, and says why in words", async () => {
    await renderInbox(server(() => problem(503, "unavailable", { title: "Service Unavailable" })));
    // No pointer move onto the button: it stays inside the row that the pointer is over.
    const user = userEvent.setup({ skipHover: true });
    // The row's own buttons exist only while the pointer is over it (or it holds the focus).
    expect(within(row("t2")!).queryByRole("button", { name: "Archive Subject 2", hidden: true })).toBeNull();
    fireEvent.pointerOver(row("t2")!);
    await user.click(within(row("t2")!).getByRole("button", { name: "Archive Subject 2", hidden: true }));
    await waitFor(() =>
      expect(screen.getByRole("alert")).toHaveTextContent(
        "Couldn’t archive the conversation. The server had a problem. Try again in a moment.",
      ),
    );
    expect(rows().map((item) => item.dataset.threadId)).toEqual(["t1", "t2", "t3", "t4"]);
  });

  it("moves the keyboard focus to the next row when the focused row is archived", async () => {
    await renderInbox();
    // Focus inside the row brings its buttons, so a keyboard user can Tab to them.
    act(() => row("t2")!.querySelector<HTMLElement>(".pw-link")!.focus());
    const archive = within(row("t2")!).getByRole("button", { name: "Archive Subject 2", hidden: true });
    act(() => archive.focus());
    expect(within(row("t2")!).getByRole("button", { name: "Archive Subject 2", hidden: true })).toBe(archive);
    fireEvent.click(archive);
    await waitFor(() => expect(row("t2")).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(row("t3")?.querySelector(".pw-link")));
  });

  it("moves with j/k, opens with o, archives the open thread with e and goes back to the list", async () => {
    const api = await renderInbox();
    fireEvent.keyDown(document.body, { key: "j" });
    expect(row("t1")).toHaveAttribute("data-focused", "true");
    fireEvent.keyDown(document.body, { key: "j" });
    expect(row("t2")).toHaveAttribute("data-focused", "true");
    fireEvent.keyDown(document.body, { key: "k" });
    expect(row("t1")).toHaveAttribute("data-focused", "true");
    fireEvent.keyDown(document.body, { key: "j" });

    act(() => void fireEvent.keyDown(document.body, { key: "o" }));
    expect(currentUrl().searchParams.get("thread")).toBe("t2");
    expect(await screen.findByText("Reading t2")).toBeInTheDocument();

    // j with a thread open opens the next one, without a new history entry.
    fireEvent.keyDown(document.body, { key: "j" });
    expect(await screen.findByText("Reading t3")).toBeInTheDocument();
    expect(fakeRouter.replace).toHaveBeenLastCalledWith("/?thread=t3", { scroll: false });

    fireEvent.keyDown(document.body, { key: "e" });
    await waitFor(() => expect(currentUrl().searchParams.get("thread")).toBeNull());
    await waitFor(() => expect(row("t3")).toBeNull());
    expect(row("t4")).toHaveAttribute("data-focused", "true");
    await waitFor(() => expect(actionBodies(api)).toEqual([{ thread_ids: ["t3"], action: "archive", folder: null, source_folder: null }]));
  });

  it("stars, marks unread and selects from the keyboard, but not while typing", async () => {
    const api = await renderInbox();
    const input = document.createElement("input");
    document.body.append(input);
    fireEvent.keyDown(input, { key: "s" });
    fireEvent.keyDown(input, { key: "j" });
    expect(document.querySelector("[data-focused]")).toBeNull();
    input.remove();

    fireEvent.keyDown(document.body, { key: "j" });
    fireEvent.keyDown(document.body, { key: "j" });
    fireEvent.keyDown(document.body, { key: "s" });
    expect(await within(row("t2")!).findByRole("button", { name: "Unstar Subject 2" })).toBeInTheDocument();
    fireEvent.keyDown(document.body, { key: "U", shiftKey: true });
    await waitFor(() => expect(row("t2")).toHaveAttribute("data-unread", "true"));
    fireEvent.keyDown(document.body, { key: "x" });
    expect(screen.getByText("1 selected")).toBeInTheDocument();
    fireEvent.keyDown(document.body, { key: "*" });
    fireEvent.keyDown(document.body, { key: "a" });
    expect(screen.getByText("4 selected")).toBeInTheDocument();
    fireEvent.keyDown(document.body, { key: "*" });
    fireEvent.keyDown(document.body, { key: "n" });
    expect(screen.queryByText(/selected$/)).toBeNull();
    await waitFor(() =>
      expect(actionBodies(api)).toEqual([
        { thread_ids: ["t2"], action: "star", folder: null, source_folder: null },
        { thread_ids: ["t2"], action: "unread", folder: null, source_folder: null },
      ]),
    );
  });

  it("offers the actions on right click, for the row or the whole selection", async () => {
    const api = await renderInbox();
    const user = userEvent.setup();
    fireEvent.contextMenu(within(row("t2")!).getByText("Subject 2"), { clientX: 100, clientY: 100 });
    const menu = await screen.findByRole("menu", { name: "Conversation actions" });
    await user.click(within(menu).getByRole("menuitem", { name: "Star" }));
    await waitFor(() => expect(actionBodies(api)).toEqual([{ thread_ids: ["t2"], action: "star", folder: null, source_folder: null }]));

    fireEvent.click(screen.getByRole("checkbox", { name: "Select Subject 1" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Select Subject 4" }));
    fireEvent.contextMenu(within(row("t4")!).getByText("Subject 4"), { clientX: 100, clientY: 100 });
    const bulk = await screen.findByRole("menu", { name: "Actions for 2 conversations" });
    await user.click(within(bulk).getByRole("menuitem", { name: "Mark as read" }));
    await waitFor(() => expect(actionBodies(api)[1]).toEqual({ thread_ids: ["t1", "t4"], action: "read", folder: null, source_folder: null }));
  });

  it("keeps the focused row in place when new mail arrives above it", async () => {
    // More rows than fit on the screen, so there is room to scroll.
    const many = [...THREADS, ...Array.from({ length: 26 }, (_, n) => thread(n + 10))];
    const api = await renderInbox(server(undefined, many));
    const scrollTo = vi.fn();
    Object.defineProperty(HTMLElement.prototype, "scrollTo", { configurable: true, value: scrollTo });
    Object.defineProperty(HTMLElement.prototype, "scrollHeight", { configurable: true, get: () => 31 * 56 });
    fireEvent.keyDown(document.body, { key: "j" });
    fireEvent.keyDown(document.body, { key: "j" });
    scrollTo.mockClear();

    api.arrive(thread(9, { subject: "Fresh news" }));
    fireEvent.click(screen.getByRole("button", { name: "Refresh" }));
    await waitFor(() => expect(row("t9")).not.toBeNull());
    // One 56 px row arrived above the focus bar: the list scrolls by exactly that much.
    expect(scrollTo).toHaveBeenCalledWith(expect.objectContaining({ top: 56 }));
    expect(row("t2")).toHaveAttribute("data-focused", "true");
  });

  it("loads the next page as the end of the list comes near", async () => {
    const many = Array.from({ length: 30 }, (_, n) => thread(n + 1));
    const api = fakeApi({
      "GET /api/accounts": () => json({ items: [{ id: ACCOUNT, email: ME, display_name: "" }] }),
      "GET /api/folders": () => json({ items: FOLDERS }),
      "GET /api/threads": [
        () => json({ items: many, next_cursor: "page-2" }),
        () => json({ items: [thread(31, { subject: "The last one" })], next_cursor: null }),
      ],
    });
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<MailView />);
    // The list knows its full length once the last page is in.
    await waitFor(() => expect(row("t1")).toHaveAttribute("aria-setsize", "31"));
    const urls = api.fetch.mock.calls.map(([request]) => new URL((request as Request).url));
    const pages = urls.filter((url) => url.pathname === "/api/threads");
    expect(pages.map((url) => url.searchParams.get("cursor"))).toEqual([null, "page-2"]);
    expect(pages[0]?.searchParams.get("folder")).toBe("inbox");
  });

  it("fetches the thread under a resting pointer, not the rows a scroll carries under it", async () => {
    const api = await renderInbox();
    const scroller = document.querySelector<HTMLElement>("[data-shortcut-scope]")!;
    const hover = (id: string) => {
      // jsdom has no PointerEvent: a mouse's pointerover, as React reads it.
      const event = new MouseEvent("pointerover", { bubbles: true });
      Object.defineProperty(event, "pointerType", { value: "mouse" });
      act(() => void row(id)!.dispatchEvent(event));
    };
    fireEvent.scroll(scroller);
    hover("t2");
    await act(() => new Promise((resolve) => setTimeout(resolve, 200)));
    expect(api.callsTo("GET", "/api/threads/t2")).toHaveLength(0);
    hover("t3"); // the list has been still for a while: a person pointing at a row
    await waitFor(() => expect(api.callsTo("GET", "/api/threads/t3")).toHaveLength(1));
    // A scroll before the pause is over cancels the pending fetch.
    hover("t4");
    fireEvent.scroll(scroller);
    await act(() => new Promise((resolve) => setTimeout(resolve, 200)));
    expect(api.callsTo("GET", "/api/threads/t4")).toHaveLength(0);
  });

  it("opens the shortcut sheet with ?", async () => {
    await renderInbox();
    fireEvent.keyDown(document.body, { key: "?" });
    const sheet = await screen.findByRole("dialog", { name: "Keyboard shortcuts" });
    expect(within(sheet).getByText("Archive")).toBeInTheDocument();
    expect(within(sheet).getByText("Go to Inbox")).toBeInTheDocument();
  });

  it("offers the first-run steps when there is no mailbox", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({ "GET /api/accounts": () => json({ items: [] }), "GET /api/folders": () => json({ items: [] }) }).fetch,
    );
    renderWithProviders(<MailView />);
    expect(await screen.findByText("Add your first mailbox")).toBeInTheDocument();
  });

  it("says the inbox is empty in words, with skeleton rows while loading", async () => {
    let answer: (response: Response) => void = () => undefined;
    const api = fakeApi({
      "GET /api/accounts": () => json({ items: [{ id: ACCOUNT, email: ME, display_name: "" }] }),
      "GET /api/folders": () => json({ items: FOLDERS }),
      "GET /api/threads": () => new Promise<Response>((resolve) => (answer = resolve)),
    });
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<MailView />);
    expect(await screen.findByRole("status", { name: "" })).toHaveTextContent("Loading conversations");
    await waitFor(() => expect(api.callsTo("GET", "/api/threads")).toHaveLength(1));
    act(() => answer(json({ items: [], next_cursor: null })));
    expect(await screen.findByText("You’re all caught up")).toBeInTheDocument();
  });
});
