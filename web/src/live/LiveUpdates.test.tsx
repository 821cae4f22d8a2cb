import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { renderWithProviders } from "@/test/render";

import { FakeWebSocket } from "./fakeWebSocket";
import { LiveUpdates, RECONNECTING_NOTE_DELAY_MS } from "./LiveUpdates";

const notifier = vi.hoisted(() => ({ onNewMail: vi.fn(), onImportantMail: vi.fn() }));
vi.mock("@/components/Notifications/desktop", () => notifier);

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
  vi.stubGlobal("WebSocket", FakeWebSocket);
  notifier.onNewMail.mockReset();
  authStore.setTokens({ access_token: "token-1", expires_in: 900 });
});

afterEach(() => {
  vi.useRealTimers();
});

function connect() {
  const ws = FakeWebSocket.latest();
  act(() => {
    ws.open();
    ws.ready();
  });
  return ws;
}

describe("LiveUpdates", () => {
  it("connects to this origin's socket and authenticates", () => {
    renderWithProviders(<LiveUpdates />);
    const ws = connect();
    expect(ws.url).toBe(`ws://${window.location.host}/api/ws`);
    expect(ws.sent).toEqual([{ type: "auth", token: "token-1" }]);
  });

  it("passes new mail to the desktop notifier", async () => {
    renderWithProviders(<LiveUpdates />);
    const ws = connect();
    act(() =>
      ws.receive({
        type: "message.created",
        data: { account_id: "a1", folder_id: "f1", message_ids: [5] },
      }),
    );
    await act(() => vi.advanceTimersByTimeAsync(100));
    expect(notifier.onNewMail).toHaveBeenCalledWith(expect.anything(), {
      account_id: "a1",
      folder_id: "f1",
      message_ids: [5],
    });
  });

  it("shows a quiet reconnecting note only while a lost connection is being restored", async () => {
    renderWithProviders(<LiveUpdates />);
    const first = connect();
    expect(screen.getByRole("status")).toBeEmptyDOMElement();

    act(() => first.serverClose(1012));
    // A blip that heals at once says nothing.
    await act(() => vi.advanceTimersByTimeAsync(RECONNECTING_NOTE_DELAY_MS - 1));
    expect(screen.getByRole("status")).toBeEmptyDOMElement();
    act(() => FakeWebSocket.latest().serverClose(1011));
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(screen.getByRole("status")).toHaveTextContent("Reconnecting…");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();

    await act(() => vi.advanceTimersByTimeAsync(2000));
    connect();
    expect(screen.getByRole("status")).toBeEmptyDOMElement();
  });

  it("closes the socket when unmounted", () => {
    const { unmount } = renderWithProviders(<LiveUpdates />);
    const ws = connect();
    unmount();
    expect(ws.closedWith).toBe(1000);
  });
});
