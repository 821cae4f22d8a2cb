import { act, configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { OutboxEntry } from "@/api/outbox";
import { authStore } from "@/auth/store";
import { currentUrl, setUrl } from "@/components/Mail/fakeNavigation";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { OutboxView } from "./OutboxView";
import { entry } from "./fixtures";

const openDraft = vi.fn();
vi.mock("next/navigation", async () => (await import("@/components/Mail/fakeNavigation")).navigationModule);
vi.mock("@/components/Compose/ComposeProvider", () => ({ useCompose: () => ({ openDraft }) }));

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const row = (id: string) => document.querySelector<HTMLElement>(`[data-row-id="${id}"]`);
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

function server(items: OutboxEntry[]) {
  return fakeApi({
    "GET /api/accounts": () => json({ items: [] }),
    "GET /api/outbox": () => json({ items }),
    "POST /api/outbox/q1/cancel": () => json({ id: "q1", status: "draft" }),
    "POST /api/outbox/f1/cancel": () => json({ id: "f1", status: "draft" }),
    "POST /api/outbox/late/cancel": () => problem(409, "already_sent", { detail: "The message has already left." }),
  });
}

beforeEach(() => {
  authStore.setTokens(TOKENS);
  openDraft.mockClear();
  setUrl("/?folder=outbox");
});
afterEach(() => {
  vi.useRealTimers();
});

describe("OutboxView", () => {
  it("says where each message is, counting the undo window down", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    const api = server([
      entry({ id: "q1", send_at: inSeconds(7.5) }),
      entry({ id: "s1", status: "sending", subject: "Report" }),
      entry({
        id: "f1",
        status: "failed",
        last_error: "The server refused the recipient",
        smtp_reply: "550 5.1.1 No such user",
        to: [{ name: "", address: "nobody@example.com" }],
      }),
      entry({ id: "t1", status: "sent", sent_at: new Date().toISOString(), thread_id: "th-9" }),
    ]);
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<OutboxView />);

    await waitFor(() => expect(row("q1")).toHaveTextContent("Sending in 8 s"));
    expect(row("q1")).toHaveTextContent("To: Ana Lima");
    expect(row("q1")).toHaveTextContent("Lunch");
    act(() => vi.advanceTimersByTime(1_000));
    expect(row("q1")).toHaveTextContent("Sending in 7 s");
    act(() => vi.advanceTimersByTime(7_000));
    expect(row("q1")).toHaveTextContent("Sending…");

    expect(row("s1")).toHaveTextContent("Sending…");
    expect(within(row("s1")!).queryByRole("button")).toBeNull();
    expect(row("f1")).toHaveTextContent("Not sent: The server refused the recipient");
    expect(within(row("f1")!).getByRole("button", { name: "Edit Lunch" })).toBeInTheDocument();
    expect(row("t1")).toHaveTextContent(/Sent \d/);
    expect(within(row("t1")!).queryByRole("button")).toBeNull();
    // A sent message leads to its conversation in Sent.
    expect(within(row("t1")!).getByRole("link")).toHaveAttribute("href", "/?folder=sent&thread=th-9");
  });

  it("shows the mail server's reply on the failed entry's status", async () => {
    vi.stubGlobal(
      "fetch",
      server([entry({ id: "f1", status: "failed", last_error: "Refused", smtp_reply: "550 5.1.1 No such user" })]).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<OutboxView />);
    await waitFor(() => expect(row("f1")).toHaveTextContent("Not sent: Refused"));
    await user.hover(row("f1")!.querySelector(".pw-status")!);
    expect(await screen.findByRole("tooltip")).toHaveTextContent("The mail server said: 550 5.1.1 No such user");
  });

  it("names a scheduled send's time", async () => {
    const monday = new Date();
    monday.setDate(monday.getDate() + 2);
    monday.setHours(8, 0, 0, 0);
    vi.stubGlobal("fetch", server([entry({ id: "q1", scheduled: true, send_at: monday.toISOString() })]).fetch);
    renderWithProviders(<OutboxView />);
    await waitFor(() => expect(row("q1")).toHaveTextContent(/Scheduled for \w+ 0?8:00/));
  });

  it("takes a waiting message back into a draft and opens it", async () => {
    const api = server([entry({ id: "q1", send_at: inSeconds(9) })]);
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<OutboxView />);
    await user.click(await screen.findByRole("button", { name: "Cancel Lunch" }));
    await waitFor(() => expect(openDraft).toHaveBeenCalledWith("q1", { id: "q1", status: "draft" }));
    expect(api.callsTo("POST", "/api/outbox/q1/cancel")).toHaveLength(1);
  });

  it("reopens a failed message to fix it", async () => {
    const api = server([entry({ id: "f1", status: "failed", last_error: "Refused" })]);
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<OutboxView />);
    await user.click(await screen.findByRole("button", { name: "Edit Lunch" }));
    await waitFor(() => expect(openDraft).toHaveBeenCalledWith("f1", { id: "f1", status: "draft" }));
  });

  it("says so when the message left before the cancel", async () => {
    vi.stubGlobal("fetch", server([entry({ id: "late", send_at: inSeconds(1) })]).fetch);
    const user = userEvent.setup();
    renderWithProviders(<OutboxView />);
    await user.click(await screen.findByRole("button", { name: "Cancel Lunch" }));
    expect(await screen.findByText("Too late: the message has already left.")).toBeInTheDocument();
    expect(openDraft).not.toHaveBeenCalled();
  });

  it("says when nothing is waiting, and leads to Sent", async () => {
    vi.stubGlobal("fetch", server([]).fetch);
    const user = userEvent.setup();
    renderWithProviders(<OutboxView />);
    expect(await screen.findByText("Nothing waiting to be sent")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Go to Sent" }));
    expect(currentUrl().search).toBe("?folder=sent");
  });
});
