import { ThemeProvider } from "@mui/material/styles";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactElement } from "react";
import { describe, expect, it, vi } from "vitest";

import { mailKeys } from "@/api/keys";
import { AuthProvider } from "@/auth/AuthProvider";
import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { theme } from "@/theme";

import { message, thread, THREAD_ID } from "./fixtures";
import { ThreadView } from "./ThreadView";

const THREAD_PATH = `GET /api/threads/${THREAD_ID}`;

function renderView(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <AuthProvider restore={false}>
        <ThemeProvider theme={theme}>{ui}</ThemeProvider>
      </AuthProvider>
    </QueryClientProvider>,
  );
  return client;
}

function cards(): HTMLElement[] {
  return screen.getAllByRole("article");
}

const FIVE = [1, 2, 3, 4, 5].map((id) =>
  message({ id, from: { name: `Sender ${id}`, address: `s${id}@example.com` }, snippet: `Snippet ${id}` }),
);

describe("ThreadView", () => {
  it("opens the newest message and folds a run of older ones into one line", async () => {
    const api = fakeApi({ [THREAD_PATH]: () => json(thread(FIVE)) });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderView(<ThreadView threadId={THREAD_ID} />);

    expect(await screen.findByRole("heading", { name: "Quarterly report" })).toBeInTheDocument();
    expect(screen.getByText("Inbox")).toBeInTheDocument();
    expect(cards()).toHaveLength(1);
    expect(cards()[0]).toHaveAttribute("data-expanded", "true");
    expect(within(cards()[0] as HTMLElement).getByText("Body of message 5")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Show 4 older messages" }));
    expect(cards()).toHaveLength(5);
    expect(cards().map((card) => card.dataset.expanded)).toEqual(["false", "false", "false", "false", "true"]);

    await user.click(within(cards()[1] as HTMLElement).getByRole("button", { expanded: false }));
    expect(cards()[1]).toHaveAttribute("data-expanded", "true");
    expect(screen.getByText("Body of message 2")).toBeInTheDocument();
    // Everything was read already: nothing to tell the server.
    expect(api.callsTo("POST", "/api/threads/actions")).toHaveLength(0);
  });

  it("keeps a run of two older messages as lines, and opens every unread one", async () => {
    const messages = [
      message({ id: 1 }),
      message({ id: 2, is_read: false }),
      message({ id: 3 }),
      message({ id: 4 }),
      message({ id: 5 }),
    ];
    const routes = {
      [THREAD_PATH]: () => json(thread(messages)),
      "POST /api/threads/actions": () => json({ thread_ids: [THREAD_ID], message_count: 1 }),
    };
    vi.stubGlobal("fetch", fakeApi(routes).fetch);
    authStore.setTokens(TOKENS);
    renderView(<ThreadView threadId={THREAD_ID} />);

    await screen.findByRole("heading", { name: "Quarterly report" });
    expect(cards().map((card) => card.dataset.expanded)).toEqual(["false", "true", "false", "false", "true"]);
    expect(screen.queryByRole("button", { name: /older messages/ })).toBeNull();
  });

  it("marks the unread messages read once, and patches what is on screen", async () => {
    const messages = [message({ id: 1 }), message({ id: 2, is_read: false })];
    const api = fakeApi({
      [THREAD_PATH]: [() => json(thread(messages)), () => json(thread(messages.map((m) => ({ ...m, is_read: true }))))],
      "POST /api/threads/actions": () => json({ thread_ids: [THREAD_ID], message_count: 1 }),
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const client = renderView(<ThreadView threadId={THREAD_ID} />);
    const invalidate = vi.spyOn(client, "invalidateQueries");

    await screen.findByRole("heading", { name: "Quarterly report" });
    await waitFor(() => expect(api.callsTo("POST", "/api/threads/actions")).toHaveLength(1));
    expect(api.callsTo("POST", "/api/threads/actions")[0]?.body).toEqual({ thread_ids: [THREAD_ID], action: "read" });
    const cached = client.getQueryData<ReturnType<typeof thread>>(mailKeys.thread(THREAD_ID));
    expect(cached?.messages.every((m) => m.is_read)).toBe(true);
    expect(cached?.unread_count).toBe(0);
    await waitFor(() =>
      expect(invalidate.mock.calls.map(([filters]) => filters?.queryKey)).toEqual(
        expect.arrayContaining([mailKeys.threadLists, mailKeys.folders]),
      ),
    );
    // The message read on opening stays open, and nothing marks it again.
    expect(cards()[1]).toHaveAttribute("data-expanded", "true");
    await act(() => client.refetchQueries({ queryKey: mailKeys.thread(THREAD_ID) }));
    expect(api.callsTo("POST", "/api/threads/actions")).toHaveLength(1);
  });

  it("opens and highlights a message that arrives while the thread is open", async () => {
    const first = [message({ id: 1 }), message({ id: 2 })];
    const later = [...first, message({ id: 3, body_text: "A new reply" })];
    vi.stubGlobal("fetch", fakeApi({ [THREAD_PATH]: [() => json(thread(first)), () => json(thread(later))] }).fetch);
    authStore.setTokens(TOKENS);
    const client = renderView(<ThreadView threadId={THREAD_ID} />);

    await screen.findByRole("heading", { name: "Quarterly report" });
    expect(cards().map((card) => card.dataset.expanded)).toEqual(["false", "true"]);

    await act(() => client.invalidateQueries({ queryKey: mailKeys.thread(THREAD_ID) }));

    await screen.findByText("A new reply");
    expect(cards().map((card) => card.dataset.expanded)).toEqual(["false", "true", "true"]);
    expect(cards()[2]).toHaveAttribute("data-highlighted", "true");
    expect(cards()[1]).not.toHaveAttribute("data-highlighted");
  });

  it("says a conversation that no longer exists was deleted or moved, with a way back", async () => {
    vi.stubGlobal("fetch", fakeApi({ [THREAD_PATH]: () => problem(404, "not_found") }).fetch);
    authStore.setTokens(TOKENS);
    const onBack = vi.fn();
    const user = userEvent.setup();
    renderView(<ThreadView threadId={THREAD_ID} onBack={onBack} toolbar={<span>Actions</span>} />);

    const heading = await screen.findByRole("heading", { name: "This conversation was deleted or moved" });
    const emptyState = heading.parentElement as HTMLElement;
    await user.click(within(emptyState).getByRole("button", { name: "Back to the list" }));
    expect(onBack).toHaveBeenCalledTimes(1);
    // A caller's toolbar brings its own back arrow: the view adds none beside it.
    expect(screen.getAllByRole("button", { name: "Back to the list" })).toHaveLength(1);
  });

  it("offers its own back arrow when the caller gives no toolbar", async () => {
    vi.stubGlobal("fetch", fakeApi({ [THREAD_PATH]: () => json(thread([message()])) }).fetch);
    authStore.setTokens(TOKENS);
    const onBack = vi.fn();
    const user = userEvent.setup();
    renderView(<ThreadView threadId={THREAD_ID} onBack={onBack} />);

    await user.click(await screen.findByRole("button", { name: "Back to the list" }));
    expect(onBack).toHaveBeenCalledTimes(1);
  });

  it("offers to try again after a failure", async () => {
    const api = fakeApi({
      [THREAD_PATH]: [() => problem(500, "internal_error"), () => json(thread([message()]))],
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderView(<ThreadView threadId={THREAD_ID} />);

    expect(await screen.findByText(/Couldn't open this conversation/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("Body of message 1")).toBeInTheDocument();
  });
});
