import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";

import { REFRESH_LOCK, RefreshUnavailableError, refreshDelay, refreshSession } from "./refresh";
import { authStore } from "./store";

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

afterEach(() => {
  Reflect.deleteProperty(navigator, "locks");
});

describe("refreshSession", () => {
  it("sends the CSRF header and the cookie, with no body, and keeps the new token", async () => {
    const api = fakeApi({ "POST /api/auth/refresh": () => json(TOKENS) });
    vi.stubGlobal("fetch", api.fetch);

    await expect(refreshSession()).resolves.toBe("refreshed");

    const [call] = api.calls;
    expect(call?.headers.get("X-Postwise-CSRF")).toBe("1");
    expect(call?.headers.get("X-Postwise-Client")).toBeNull();
    expect(call?.body).toBeUndefined();
    expect(api.fetch.mock.calls[0]?.[1]).toMatchObject({ credentials: "same-origin", keepalive: true });
    expect(authStore.getState()).toMatchObject({ status: "signed-in", accessToken: "access-1" });
  });

  it("makes one request for concurrent callers (rotation must never race)", async () => {
    const gate = deferred<Response>();
    const api = fakeApi({ "POST /api/auth/refresh": [() => gate.promise, () => json(TOKENS)] });
    vi.stubGlobal("fetch", api.fetch);

    const results = Promise.all([refreshSession(), refreshSession(), refreshSession()]);
    await vi.waitFor(() => expect(api.calls).toHaveLength(1));
    gate.resolve(json(TOKENS));

    await expect(results).resolves.toEqual(["refreshed", "refreshed", "refreshed"]);
    expect(api.calls).toHaveLength(1);

    // Once settled, the next refresh is a new request.
    await refreshSession();
    expect(api.calls).toHaveLength(2);
  });

  it("runs under the cross-tab Web Lock when the browser has one", async () => {
    const order: string[] = [];
    const request = vi.fn(async (name: string, _options: unknown, task: () => Promise<unknown>) => {
      order.push(`lock ${name}`);
      const result = await task();
      order.push("unlock");
      return result;
    });
    Object.defineProperty(navigator, "locks", { value: { request }, configurable: true });
    const api = fakeApi({
      "POST /api/auth/refresh": () => {
        order.push("fetch");
        return json(TOKENS);
      },
    });
    vi.stubGlobal("fetch", api.fetch);

    await refreshSession();

    expect(request).toHaveBeenCalledWith(REFRESH_LOCK, { mode: "exclusive" }, expect.any(Function));
    expect(order).toEqual([`lock ${REFRESH_LOCK}`, "fetch", "unlock"]);
  });

  it("signs the tab out when the refresh token is refused", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/refresh": () => problem(401, "invalid_refresh_token") }).fetch);
    authStore.setTokens(TOKENS);

    await expect(refreshSession()).resolves.toBe("signed-out");
    expect(authStore.getState()).toEqual({ status: "signed-out", reason: "expired" });
  });

  it("on a fresh page load without a session the tab is anonymous", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/refresh": () => problem(401, "invalid_refresh_token") }).fetch);
    await refreshSession();
    expect(authStore.getState()).toEqual({ status: "signed-out", reason: "anonymous" });
  });

  it("keeps the session when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    authStore.setTokens(TOKENS);

    await expect(refreshSession()).rejects.toBeInstanceOf(RefreshUnavailableError);
    expect(authStore.accessToken()).toBe("access-1");
  });
});

describe("refreshDelay", () => {
  it("refreshes a minute before expiry", () => {
    expect(refreshDelay(900_000, 0)).toBe(840_000);
  });

  it("uses half the lifetime for short-lived tokens and never less than a second", () => {
    expect(refreshDelay(60_000, 0)).toBe(30_000);
    expect(refreshDelay(500, 0)).toBe(1_000);
    expect(refreshDelay(0, 10_000)).toBe(1_000);
  });
});
