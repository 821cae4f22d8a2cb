import { configure, screen, waitFor, waitForElementToBeRemoved, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { Folder } from "@/api/mail";
import { authStore } from "@/auth/store";
import { setUrl } from "@/components/Mail/fakeNavigation";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { AppShell } from "./AppShell";

vi.mock("next/navigation", async () => (await import("@/components/Mail/fakeNavigation")).navigationModule);
vi.mock("@/components/Search/SearchBar", () => ({ SearchBar: () => <input aria-label="Search mail" /> }));
vi.mock("@/components/Notifications/NotificationBell", () => ({
  NotificationBell: () => <button type="button">Notifications</button>,
}));

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const folder = (account: string, name: string, extra: Partial<Folder> = {}): Folder => ({
  id: `${account}:${name}`,
  account_id: account,
  name,
  display_name: name.split("/").pop() ?? name,
  delimiter: "/",
  role: null,
  selectable: true,
  total_count: 10,
  unread_count: 0,
  ...extra,
});

const WORK = [
  folder("work", "INBOX", { role: "inbox", unread_count: 12 }),
  folder("work", "Drafts", { role: "drafts", total_count: 2 }),
  folder("work", "Junk", { role: "junk", unread_count: 4 }),
  folder("work", "Clients", { unread_count: 5 }),
  folder("work", "Clients/Acme", { unread_count: 1 }),
];
const HOME = [folder("home", "INBOX", { role: "inbox", unread_count: 3 }), folder("home", "Receipts")];
const ACCOUNTS = [
  { id: "work", email: "ana@work.example", display_name: "Work" },
  { id: "home", email: "ana@home.example", display_name: "" },
];

function serve(folders: Folder[], accounts = ACCOUNTS) {
  const api = fakeApi({
    "GET /healthz": () => json({ status: "ok" }),
    "GET /api/folders": () => json({ items: folders }),
    "GET /api/accounts": () => json({ items: accounts }),
    "GET /api/users/me": () => json({ id: "u", email: "ana@work.example", name: "Ana" }),
    // The unified Drafts entry counts Postwise's drafts, not the servers' Drafts folders.
    "GET /api/drafts": () => json({ items: [{ id: "d1", status: "draft" }, { id: "d2", status: "draft" }] }),
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

const nav = () => screen.getAllByRole("navigation", { name: "Folders" })[0]!;
/** The first link of that name: the unified entries come before the mailboxes' trees. */
const link = (name: string | RegExp) => within(nav()).getAllByRole("link", { name })[0]!;

beforeEach(() => {
  window.localStorage.clear();
  setUrl("/");
  authStore.setTokens(TOKENS);
});

describe("AppShell", () => {
  it("has the name, the search field, notifications, the account menu and the content", () => {
    serve([]);
    renderWithProviders(<AppShell>content here</AppShell>);
    expect(screen.getByText("Postwise")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Search mail" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Notifications" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Account menu" })).toBeInTheDocument();
    expect(screen.getByRole("main")).toHaveTextContent("content here");
    expect(screen.queryByText(/API ok/)).toBeNull();
  });

  it("lists the unified folders with their counts, then each mailbox's tree, then the other pages", async () => {
    serve([...WORK, ...HOME]);
    renderWithProviders(<AppShell>content</AppShell>);

    await waitFor(() => expect(link(/^Inbox\W*15 unread$/)).toHaveAttribute("href", "/"));
    expect(link(/^Inbox\W*15 unread$/)).toHaveAttribute("aria-current", "page");
    expect(link("Starred")).toHaveAttribute("href", "/?q=is%3Astarred");
    expect(link(/^Drafts\W*2$/)).toHaveAttribute("href", "/?folder=drafts");
    expect(link(/^Spam\W*4 unread$/)).toHaveAttribute("href", "/?folder=junk");
    for (const name of ["Sent", "Archive", "Trash"]) expect(link(name)).toBeInTheDocument();

    // Several mailboxes: each has its own tree, with its special folders.
    const work = within(nav()).getByRole("list", { name: "Work" });
    const names = within(work)
      .getAllByRole("link")
      .map((item) => item.textContent);
    expect(names).toEqual(["Inbox12unread", "Drafts2", "Spam4unread", "Clients5unread", "Acme1unread"]);
    expect(within(work).getByRole("link", { name: /^Inbox\W*12 unread$/ })).toHaveAttribute(
      "href",
      "/?account=work",
    );
    expect(within(work).getByRole("link", { name: /^Clients\W*5 unread$/ })).toHaveAttribute(
      "href",
      "/?folder=work%3AClients",
    );
    expect(within(nav()).getByRole("list", { name: "ana@home.example" })).toBeInTheDocument();
    expect(link("Dashboard")).toHaveAttribute("href", expect.stringMatching(/^\/dashboard\/?$/));
    expect(link("Settings")).toHaveAttribute("href", expect.stringMatching(/^\/settings\/?$/));
  });

  it("folds a folder's subfolders and marks the open folder", async () => {
    setUrl("/?folder=work%3AClients%2FAcme");
    serve([...WORK, ...HOME]);
    const user = userEvent.setup();
    renderWithProviders(<AppShell>content</AppShell>);

    await waitFor(() => expect(link(/^Acme\W*1 unread$/)).toHaveAttribute("aria-current", "page"));
    expect(link(/^Inbox\W*15 unread$/)).not.toHaveAttribute("aria-current");

    const fold = within(nav()).getByRole("button", { name: "Fold Clients" });
    expect(fold).toHaveAttribute("aria-expanded", "true");
    await user.click(fold);
    await waitFor(() => expect(within(nav()).queryByRole("link", { name: /^Acme\W*1 unread$/ })).toBeNull());
    expect(within(nav()).getByRole("button", { name: "Unfold Clients" })).toHaveAttribute("aria-expanded", "false");
  });

  it("with one mailbox lists only its own folders under the unified ones", async () => {
    serve(WORK, ACCOUNTS.slice(0, 1));
    renderWithProviders(<AppShell>content</AppShell>);
    const own = await within(nav()).findByRole("list", { name: "Folders" });
    expect(
      within(own)
        .getAllByRole("link")
        .map((item) => item.textContent),
    ).toEqual(["Clients5unread", "Acme1unread"]);
  });

  it("opens the phone drawer from the menu button and closes it on navigation", async () => {
    // A phone's width: the button is hidden from the md breakpoint up, and happy-dom applies
    // media queries to computed styles (so to what is accessible).
    setViewport(390, 844);
    try {
      serve(WORK, ACCOUNTS.slice(0, 1));
      const user = userEvent.setup();
      renderWithProviders(<AppShell>content</AppShell>);
      const button = screen.getByRole("button", { name: "Open navigation" });
      expect(button).toHaveAttribute("aria-expanded", "false");

      await user.click(button);
      const drawer = document.getElementById("mobile-navigation") as HTMLElement;
      expect(button).toHaveAttribute("aria-expanded", "true");
      await user.click(within(drawer).getByRole("link", { name: "Sent" }));
      await waitForElementToBeRemoved(() => document.getElementById("mobile-navigation"));
      expect(button).toHaveAttribute("aria-expanded", "false");
    } finally {
      setViewport(1024, 768);
    }
  });
});

function setViewport(width: number, height: number) {
  (window as unknown as { happyDOM: { setViewport(size: { width: number; height: number }): void } }).happyDOM.setViewport({
    width,
    height,
  });
}
