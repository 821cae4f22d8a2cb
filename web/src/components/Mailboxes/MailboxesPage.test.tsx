import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, noContent, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ACCOUNT } from "./fixtures";
import { MailboxesPage } from "./MailboxesPage";
import { describeSync } from "./syncStatus";

const navigation = vi.hoisted(() => ({ search: "", replace: vi.fn() }));
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams(navigation.search),
  useRouter: () => ({ replace: navigation.replace, push: vi.fn() }),
  usePathname: () => "/settings/mailboxes/",
}));

const BROKEN = {
  ...ACCOUNT,
  id: "acc-2",
  email: "bo@corp.example",
  display_name: "Work",
  imap_host: "mail.corp.example",
  sync_state: "error" as const,
  last_error: "raw server text",
  last_error_code: "auth_failed",
};
const DEMO = {
  ...ACCOUNT,
  id: "acc-3",
  kind: "local" as const,
  is_demo: true,
  email: "demo.user@example.com",
  display_name: "Demo mailbox",
  counts: { folders: 4, messages: 150, unread: 20 },
};

beforeEach(() => {
  navigation.search = "";
  navigation.replace.mockClear();
});

describe("MailboxesPage", { timeout: 20_000 }, () => {
  it("lists each mailbox with its sync state, and the fix for a failing one", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /api/accounts": () => json({ items: [ACCOUNT, BROKEN, DEMO] }) }).fetch);
    authStore.setTokens(TOKENS);
    renderWithProviders(<MailboxesPage />);

    const rows = await screen.findAllByTestId("mailbox-row");
    expect(rows).toHaveLength(3);
    const [ok, broken, demo] = rows as [HTMLElement, HTMLElement, HTMLElement];
    expect(within(ok).getByTestId("mailbox-status")).toHaveTextContent(
      "Up to date · synced 5 minutes ago · 1,234 messages · 12 unread",
    );
    expect(within(broken).getByText("Work")).toBeInTheDocument();
    expect(within(broken).getByRole("alert")).toHaveTextContent(
      "mail.corp.example refused the user name or password.",
    );
    expect(within(broken).queryByText("raw server text")).toBeNull();
    expect(within(broken).getByRole("button", { name: "Fix settings" })).toBeInTheDocument();
    expect(within(demo).getByTestId("mailbox-status")).toHaveTextContent("Demo mail · 150 messages");
    // Imported and demo mail has no server to sync with.
    expect(within(demo).queryByRole("button", { name: /Sync/ })).toBeNull();
  });

  it("syncs on request and removes a mailbox after saying what happens to the mail", async () => {
    let items = [ACCOUNT];
    const api = fakeApi({
      "GET /api/accounts": () => json({ items }),
      "POST /api/accounts/acc-1/sync": () => json({ status: "queued" }, 202),
      "DELETE /api/accounts/acc-1": () => {
        items = [];
        return noContent();
      },
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<MailboxesPage />);

    await user.click(await screen.findByRole("button", { name: "Sync ada@example.com now" }));
    expect(await screen.findByText("Checking ada@example.com for new mail")).toBeInTheDocument();
    expect(api.callsTo("POST", "/api/accounts/acc-1/sync")).toHaveLength(1);

    await user.click(screen.getByRole("button", { name: "Remove ada@example.com" }));
    const dialog = await screen.findByRole("dialog", { name: "Remove ada@example.com?" });
    expect(dialog).toHaveTextContent("Postwise deletes its copy of this mailbox's mail.");
    expect(dialog).toHaveTextContent("The mail on imap.example.com is not touched");
    await user.click(within(dialog).getByRole("button", { name: "Remove mailbox" }));

    expect(await screen.findByText("No mailboxes yet")).toBeInTheDocument();
    expect(api.callsTo("DELETE", "/api/accounts/acc-1")).toHaveLength(1);
  });

  it("opens the add form from ?add=1 and forgets it on close", async () => {
    navigation.search = "add=1";
    vi.stubGlobal("fetch", fakeApi({ "GET /api/accounts": () => json({ items: [] }) }).fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<MailboxesPage />);

    const dialog = await screen.findByRole("dialog", { name: "Add a mailbox" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/settings/mailboxes/"));
  });

  it("describes the first sync by what has arrived so far", () => {
    const first = { ...ACCOUNT, sync_state: "initial" as const, last_synced_at: null };
    expect(describeSync({ ...first, counts: { folders: 0, messages: 0, unread: 0 } }).label).toBe(
      "First sync · starting",
    );
    expect(describeSync({ ...first, counts: { folders: 3, messages: 2500, unread: 4 } })).toEqual({
      tone: "busy",
      label: "First sync · 2,500 messages so far",
    });
  });
});
