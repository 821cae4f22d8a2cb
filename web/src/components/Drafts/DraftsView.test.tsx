import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { DraftSummary } from "@/api/outbox";
import { authStore } from "@/auth/store";
import { setUrl } from "@/components/Mail/fakeNavigation";
import { fakeApi, json, noContent, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { MailView } from "@/components/Mail/MailView";

import { DraftsView } from "./DraftsView";

const openDraft = vi.fn();
const openNew = vi.fn();
vi.mock("next/navigation", async () => (await import("@/components/Mail/fakeNavigation")).navigationModule);
vi.mock("@/components/Compose/ComposeProvider", () => ({ useCompose: () => ({ openDraft, openNew }) }));

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

function draft(id: string, extra: Partial<DraftSummary> = {}): DraftSummary {
  return {
    id,
    account_id: "acc-1",
    status: "draft",
    mode: "new",
    to: [{ name: "Ana Lima", address: "ana@example.com" }],
    subject: `Subject ${id}`,
    snippet: `Snippet ${id}`,
    has_attachments: false,
    thread_id: null,
    updated_at: "2024-03-05T10:00:00Z",
    ...extra,
  };
}

const DRAFTS = [
  draft("d1", { has_attachments: true }),
  draft("d2", { to: [], subject: "" }),
  draft("d3", { account_id: "acc-2" }),
  // Already in the outbox: listed there, not here.
  draft("d4", { status: "queued" }),
];

function server(items: DraftSummary[] = DRAFTS) {
  let drafts = items;
  return fakeApi({
    "GET /api/accounts": () => json({ items: [{ id: "acc-1", email: "ana@example.com", display_name: "" }] }),
    "GET /api/outbox": () => json({ items: [] }),
    "GET /api/drafts": () => json({ items: drafts }),
    "DELETE /api/drafts/d1": () => {
      drafts = drafts.filter((item) => item.id !== "d1");
      return noContent();
    },
    "DELETE /api/drafts/d3": () => problem(503, "database_unavailable", { detail: "Try again in a moment." }),
  });
}

// The row's actions show on hover and focus (no pointer hovers in the test DOM): reached as hidden.
const discardButton = (subject: string) => screen.findByRole("button", { name: `Discard draft ${subject}`, hidden: true });
const row = (id: string) => document.querySelector<HTMLElement>(`[data-row-id="${id}"]`)!;

beforeEach(() => {
  authStore.setTokens(TOKENS);
  openDraft.mockClear();
  setUrl("/?folder=drafts");
});

describe("DraftsView", () => {
  it("lists drafts like conversations: recipients, subject, snippet, attachment, date", async () => {
    vi.stubGlobal("fetch", server().fetch);
    renderWithProviders(<DraftsView />);
    const list = await screen.findByRole("list", { name: "Drafts" });
    expect(within(list).getAllByRole("listitem").map((item) => item.dataset.rowId)).toEqual(["d1", "d2", "d3"]);
    expect(row("d1")).toHaveTextContent("To: Ana Lima");
    expect(row("d1")).toHaveTextContent("Subject d1 — Snippet d1");
    expect(within(row("d1")).getByTitle("Has attachments")).toBeInTheDocument();
    expect(within(row("d1")).getByRole("time")).toHaveAttribute("datetime", "2024-03-05T10:00:00Z");
    // No recipients yet: "Draft", in the error colour, where the names go.
    expect(within(row("d2")).getByText("Draft")).toHaveClass("pw-none");
    expect(row("d2")).toHaveTextContent("(no subject)");
    expect(within(row("d2")).queryByTitle("Has attachments")).toBeNull();
    expect(document.title).toBe("Drafts — Postwise");
  });

  it("shows one mailbox's drafts", async () => {
    vi.stubGlobal("fetch", server().fetch);
    renderWithProviders(<DraftsView account="acc-2" />);
    await waitFor(() => expect(row("d3")).not.toBeNull());
    expect(screen.getAllByRole("listitem")).toHaveLength(1);
  });

  it("opens a draft in the composer on click, and with j/k and Enter", async () => {
    vi.stubGlobal("fetch", server().fetch);
    const user = userEvent.setup();
    renderWithProviders(<DraftsView />);
    await user.click(await screen.findByRole("button", { name: /Subject d1/ }));
    expect(openDraft).toHaveBeenCalledWith("d1");

    openDraft.mockClear();
    await user.keyboard("j");
    expect(row("d2")).toHaveAttribute("data-focused");
    expect(row("d2").querySelector(".pw-link")).toHaveFocus();
    await user.keyboard("j");
    await user.keyboard("k");
    expect(row("d2")).toHaveAttribute("data-focused");
    await user.keyboard("{Enter}");
    expect(openDraft).toHaveBeenCalledWith("d2");
  });

  it("discards a draft after asking, and leaves it when told to keep it", async () => {
    const api = server();
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<DraftsView />);

    await user.click(await discardButton("Subject d1"));
    let dialog = await screen.findByRole("dialog", { name: "Discard this draft?" });
    expect(dialog).toHaveTextContent("“Subject d1” will be deleted");
    await user.click(within(dialog).getByRole("button", { name: "Keep it" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(api.callsTo("DELETE", "/api/drafts/d1")).toHaveLength(0);

    await user.click(await discardButton("Subject d1"));
    dialog = await screen.findByRole("dialog", { name: "Discard this draft?" });
    await user.click(within(dialog).getByRole("button", { name: "Discard" }));
    await waitFor(() => expect(row("d1")).toBeNull());
    expect(api.callsTo("DELETE", "/api/drafts/d1")).toHaveLength(1);
    expect(await screen.findByText("Draft discarded")).toBeInTheDocument();
    expect(openDraft).not.toHaveBeenCalled();
  });

  it("says why a draft could not be discarded", async () => {
    vi.stubGlobal("fetch", server().fetch);
    const user = userEvent.setup();
    renderWithProviders(<DraftsView />);
    await user.click(await discardButton("Subject d3"));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Discard" }));
    expect(await screen.findByText("Couldn’t discard the draft. Try again in a moment.")).toBeInTheDocument();
    expect(row("d3")).not.toBeNull();
  });

  it("says when there are no drafts, and offers to write one", async () => {
    vi.stubGlobal("fetch", server([draft("d9", { status: "sent" })]).fetch);
    const user = userEvent.setup();
    renderWithProviders(<DraftsView />);
    expect(await screen.findByText("No drafts")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Compose" }));
    expect(openNew).toHaveBeenCalled();
  });

  it("stands in for the thread list in the mail view, which never asks /api/threads for it", async () => {
    const api = server();
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<MailView />);
    expect(await screen.findByRole("list", { name: "Drafts" })).toBeInTheDocument();
    setUrl("/?folder=outbox");
    expect(await screen.findByText("Nothing waiting to be sent")).toBeInTheDocument();
    expect(api.calls.filter((call) => call.path.startsWith("/api/threads"))).toEqual([]);
  });
});
