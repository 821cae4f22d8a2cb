import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";

import { FakeWebSocket } from "./fakeWebSocket";
import { backoffDelay, liveUrl, LiveSocket, type LiveEvent, type LiveStatus } from "./socket";

const refresh = vi.hoisted(() => ({ refreshSession: vi.fn() }));
vi.mock("@/auth/refresh", () => refresh);

function signIn(token: string) {
  authStore.setTokens({ access_token: token, expires_in: 900 });
}

function startSocket(options: { random?: () => number } = {}) {
  const events: LiveEvent[] = [];
  const statuses: LiveStatus[] = [];
  const socket = new LiveSocket({
    url: "ws://localhost/api/ws",
    onEvent: (event) => events.push(event),
    onStatus: (status) => statuses.push(status),
    random: options.random ?? (() => 0.5),
  });
  socket.start();
  return { socket, events, statuses };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
  vi.stubGlobal("WebSocket", FakeWebSocket);
  refresh.refreshSession.mockReset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("backoffDelay", () => {
  it("doubles from 1 s to a 30 s ceiling", () => {
    const top = () => 1;
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, top))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it("jitters between half and all of the step", () => {
    for (const attempt of [0, 3, 8]) {
      const ceiling = Math.min(30_000, 1000 * 2 ** attempt);
      expect(backoffDelay(attempt, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      for (let i = 0; i < 50; i += 1) {
        const delay = backoffDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe("liveUrl", () => {
  it("uses wss for https pages", () => {
    expect(liveUrl("https://mail.example.com")).toBe("wss://mail.example.com/api/ws");
    expect(liveUrl("http://127.0.0.1:8000")).toBe("ws://127.0.0.1:8000/api/ws");
  });
});

describe("LiveSocket", () => {
  it("sends the access token first and reports open after ready", () => {
    signIn("token-1");
    const { events, statuses, socket } = startSocket();
    const ws = FakeWebSocket.latest();
    expect(ws.url).toBe("ws://localhost/api/ws");
    expect(statuses).toEqual(["connecting"]);

    ws.open();
    expect(ws.sent).toEqual([{ type: "auth", token: "token-1" }]);
    ws.ready();
    expect(socket.status).toBe("open");
    expect(events.map((event) => event.type)).toEqual(["ready"]);

    ws.receive({ type: "heartbeat" });
    ws.receive({ type: "folder.counts", data: { folder_id: "f1", total: 3, unread: 1 } });
    expect(events.at(-1)).toEqual({ type: "folder.counts", data: { folder_id: "f1", total: 3, unread: 1 } });
    expect(events).toHaveLength(2);
    socket.stop();
  });

  it("re-authenticates the open socket when the token is refreshed", () => {
    signIn("token-1");
    const { socket } = startSocket();
    const ws = FakeWebSocket.latest();
    ws.open();
    ws.ready();

    signIn("token-2");
    expect(ws.sent).toEqual([
      { type: "auth", token: "token-1" },
      { type: "auth", token: "token-2" },
    ]);
    expect(FakeWebSocket.instances).toHaveLength(1);
    socket.stop();
  });

  it("reconnects with growing, jittered delays and resets them after ready", async () => {
    signIn("token-1");
    const { socket, statuses } = startSocket({ random: () => 0 });
    FakeWebSocket.latest().serverClose(1012);
    expect(socket.status).toBe("reconnecting");

    // random() = 0 waits half of each step: 0.5 s, 1 s, 2 s.
    for (const [wait, sockets] of [
      [500, 2],
      [1000, 3],
      [2000, 4],
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(FakeWebSocket.instances).toHaveLength(sockets - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances).toHaveLength(sockets);
      FakeWebSocket.latest().serverClose(1011);
    }

    await vi.advanceTimersByTimeAsync(4000);
    const ws = FakeWebSocket.latest();
    ws.open();
    ws.ready();
    expect(socket.status).toBe("open");
    ws.serverClose(1012);
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeWebSocket.instances).toHaveLength(6);
    expect(statuses).toEqual(["connecting", "reconnecting", "open", "reconnecting"]);
    socket.stop();
  });

  it.each([4400, 1009, 4403])("does not reconnect after close code %i", async (code) => {
    signIn("token-1");
    const { socket } = startSocket();
    const ws = FakeWebSocket.latest();
    ws.open();
    ws.ready();
    ws.serverClose(code);
    expect(socket.status).toBe("closed");

    // Neither waiting nor a refreshed token opens another socket.
    await vi.advanceTimersByTimeAsync(120_000);
    signIn("token-2");
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    socket.stop();
  });

  it("refreshes the token after 4401 before reconnecting", async () => {
    signIn("token-1");
    refresh.refreshSession.mockImplementation(async () => {
      signIn("token-2");
      return "refreshed";
    });
    const { socket } = startSocket();
    const first = FakeWebSocket.latest();
    first.open();
    first.ready();
    first.serverClose(4401, "token_expired");
    expect(refresh.refreshSession).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1000);
    expect(refresh.refreshSession).toHaveBeenCalledTimes(1);
    const second = FakeWebSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent).toEqual([{ type: "auth", token: "token-2" }]);
    socket.stop();
  });

  it("waits for a session being restored, then connects with its token", () => {
    const { socket } = startSocket();
    expect(socket.status).toBe("connecting");
    expect(FakeWebSocket.instances).toHaveLength(0);
    signIn("restored");
    FakeWebSocket.latest().open();
    expect(FakeWebSocket.latest().sent).toEqual([{ type: "auth", token: "restored" }]);
    socket.stop();
  });

  it("stops for good when the refresh says the session is over", async () => {
    signIn("token-1");
    refresh.refreshSession.mockImplementation(async () => {
      authStore.setSignedOut("expired");
      return "signed-out";
    });
    const { socket } = startSocket();
    FakeWebSocket.latest().serverClose(4401, "session_revoked");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refresh.refreshSession).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(socket.status).toBe("closed");
    socket.stop();
  });

  it("treats two heartbeats of silence as a dead connection", async () => {
    signIn("token-1");
    const { socket } = startSocket();
    const ws = FakeWebSocket.latest();
    ws.open();
    ws.ready(25);

    // Any frame restarts the count.
    await vi.advanceTimersByTimeAsync(40_000);
    ws.receive({ type: "heartbeat" });
    await vi.advanceTimersByTimeAsync(49_999);
    expect(socket.status).toBe("open");
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.closedWith).toBe(1000);
    expect(socket.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(2);
    socket.stop();
  });

  it("closes on sign-out and connects again on the next sign-in", async () => {
    signIn("token-1");
    const { socket } = startSocket();
    const ws = FakeWebSocket.latest();
    ws.open();
    ws.ready();

    authStore.setSignedOut("explicit");
    expect(ws.closedWith).toBe(1000);
    expect(socket.status).toBe("closed");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);

    signIn("someone-else");
    expect(socket.status).toBe("connecting");
    FakeWebSocket.latest().open();
    expect(FakeWebSocket.latest().sent).toEqual([{ type: "auth", token: "someone-else" }]);
    socket.stop();
  });

  it("skips the rest of the wait when the browser is back online", async () => {
    signIn("token-1");
    const { socket } = startSocket();
    FakeWebSocket.latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeWebSocket.instances).toHaveLength(1);
    window.dispatchEvent(new Event("online"));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(2);
    socket.stop();
  });

  it("ignores frames that are not JSON objects with a type", () => {
    signIn("token-1");
    const { events, socket } = startSocket();
    const ws = FakeWebSocket.latest();
    ws.open();
    ws.onmessage?.(new MessageEvent("message", { data: "not json" }));
    ws.receive([1, 2]);
    ws.receive({ data: {} });
    expect(events).toEqual([]);
    socket.stop();
  });
});
