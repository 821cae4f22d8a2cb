import { describe, expect, it, vi } from "vitest";

import { api, unwrap } from "@/api/client";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";

import { authStore } from "./store";

const ME = {
  id: "u1",
  email: "ada@example.com",
  name: "Ada",
  is_admin: true,
  email_verified: true,
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
};

const authorized = (token: string) => (call: { headers: Headers }) =>
  call.headers.get("Authorization") === `Bearer ${token}` ? json(ME) : problem(401, "invalid_token");

describe("authMiddleware", () => {
  it("sends the in-memory access token as a bearer token", async () => {
    const server = fakeApi({ "GET /api/users/me": authorized("access-1") });
    vi.stubGlobal("fetch", server.fetch);
    authStore.setTokens(TOKENS);

    await expect(api.GET("/api/users/me").then(unwrap)).resolves.toEqual(ME);
  });

  it("refreshes once on a 401 and retries the call, body included", async () => {
    const server = fakeApi({
      "PATCH /api/users/me": (call) =>
        call.headers.get("Authorization") === "Bearer access-2"
          ? json({ ...ME, ...(call.body as object) })
          : problem(401, "invalid_token"),
      "POST /api/auth/refresh": () => json({ ...TOKENS, access_token: "access-2" }),
    });
    vi.stubGlobal("fetch", server.fetch);
    authStore.setTokens(TOKENS);

    const user = unwrap(await api.PATCH("/api/users/me", { body: { name: "Grace" } }));

    expect(user.name).toBe("Grace");
    expect(server.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "PATCH /api/users/me",
      "POST /api/auth/refresh",
      "PATCH /api/users/me",
    ]);
    expect(server.calls[2]?.body).toEqual({ name: "Grace" });
  });

  it("shares one refresh between concurrent 401s", async () => {
    const server = fakeApi({
      "GET /api/users/me": authorized("access-2"),
      "GET /api/auth/sessions": (call) =>
        call.headers.get("Authorization") === "Bearer access-2"
          ? json({ items: [] })
          : problem(401, "invalid_token"),
      "POST /api/auth/refresh": async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return json({ ...TOKENS, access_token: "access-2" });
      },
    });
    vi.stubGlobal("fetch", server.fetch);
    authStore.setTokens(TOKENS);

    await Promise.all([
      api.GET("/api/users/me").then(unwrap),
      api.GET("/api/auth/sessions").then(unwrap),
      api.GET("/api/users/me").then(unwrap),
    ]);

    expect(server.callsTo("POST", "/api/auth/refresh")).toHaveLength(1);
  });

  it("retries without refreshing when another call already refreshed", async () => {
    const server = fakeApi({
      "GET /api/users/me": async (call) => {
        // The token rotates while this call is in flight.
        authStore.setTokens({ ...TOKENS, access_token: "access-2" });
        return authorized("access-2")(call);
      },
    });
    vi.stubGlobal("fetch", server.fetch);
    authStore.setTokens(TOKENS);

    await api.GET("/api/users/me").then(unwrap);
    expect(server.callsTo("POST", "/api/auth/refresh")).toHaveLength(0);
    expect(server.callsTo("GET", "/api/users/me")).toHaveLength(2);
  });

  it("signs out when the refresh fails, returning the original 401", async () => {
    const server = fakeApi({
      "GET /api/users/me": () => problem(401, "session_revoked"),
      "POST /api/auth/refresh": () => problem(401, "invalid_refresh_token"),
    });
    vi.stubGlobal("fetch", server.fetch);
    authStore.setTokens(TOKENS);

    const result = await api.GET("/api/users/me");
    expect(result.response.status).toBe(401);
    expect(authStore.getState()).toEqual({ status: "signed-out", reason: "expired" });
    expect(server.callsTo("GET", "/api/users/me")).toHaveLength(1);
  });

  it("does not refresh when a 401 rejects a typed password or code", async () => {
    const server = fakeApi({
      "POST /api/auth/password/change": () => problem(401, "invalid_credentials"),
      "POST /api/auth/login/mfa": () => problem(401, "invalid_mfa_code"),
    });
    vi.stubGlobal("fetch", server.fetch);
    authStore.setTokens(TOKENS);

    await api.POST("/api/auth/password/change", {
      body: { current_password: "wrong", new_password: "a new long passphrase" },
    });
    await api.POST("/api/auth/login/mfa", { body: { mfa_token: "t", code: "123456" } });

    expect(server.callsTo("POST", "/api/auth/refresh")).toHaveLength(0);
    expect(authStore.accessToken()).toBe("access-1");
  });
});
