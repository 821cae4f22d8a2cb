import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, json, noContent, problem, TOKENS } from "@/test/fakeApi";

import { AuthProvider, useAuth } from "./AuthProvider";
import { authStore } from "./store";

function Status() {
  const { status, signOut } = useAuth();
  return (
    <>
      <p>status: {status}</p>
      <button onClick={() => void signOut()}>sign out</button>
    </>
  );
}

function renderProvider() {
  const client = new QueryClient();
  return render(
    <QueryClientProvider client={client}>
      <AuthProvider>
        <Status />
      </AuthProvider>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe("AuthProvider", () => {
  it("restores the session from the refresh cookie on load", async () => {
    const api = fakeApi({ "POST /api/auth/refresh": () => json(TOKENS) });
    vi.stubGlobal("fetch", api.fetch);
    renderProvider();

    expect(screen.getByText("status: restoring")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText("status: signed-in")).toBeInTheDocument());
    expect(api.callsTo("POST", "/api/auth/refresh")).toHaveLength(1);
  });

  it("is signed out when there is no session to restore", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/refresh": () => problem(401, "invalid_refresh_token") }).fetch);
    renderProvider();
    await waitFor(() => expect(screen.getByText("status: signed-out")).toBeInTheDocument());
  });

  it("refreshes proactively a minute before the access token expires", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const api = fakeApi({
      "POST /api/auth/refresh": [() => json(TOKENS), () => json({ ...TOKENS, access_token: "access-2" })],
    });
    vi.stubGlobal("fetch", api.fetch);
    renderProvider();
    await waitFor(() => expect(authStore.accessToken()).toBe("access-1"));

    await act(() => vi.advanceTimersByTimeAsync(839_000));
    expect(api.callsTo("POST", "/api/auth/refresh")).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(2_000));
    await waitFor(() => expect(authStore.accessToken()).toBe("access-2"));
    expect(api.callsTo("POST", "/api/auth/refresh")).toHaveLength(2);
  });

  it("signs out on the server with bearer and CSRF header, then forgets the token", async () => {
    const api = fakeApi({
      "POST /api/auth/refresh": () => json(TOKENS),
      "POST /api/auth/logout": () => noContent(),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderProvider();
    await waitFor(() => expect(screen.getByText("status: signed-in")).toBeInTheDocument());

    await user.click(screen.getByRole("button", { name: "sign out" }));

    await waitFor(() => expect(screen.getByText("status: signed-out")).toBeInTheDocument());
    const [logout] = api.callsTo("POST", "/api/auth/logout");
    expect(logout?.headers.get("Authorization")).toBe("Bearer access-1");
    expect(logout?.headers.get("X-Postwise-CSRF")).toBe("1");
    expect(authStore.getState()).toEqual({ status: "signed-out", reason: "explicit" });
  });

  it("keeps no token in web storage", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/refresh": () => json(TOKENS) }).fetch);
    renderProvider();
    await waitFor(() => expect(authStore.accessToken()).toBe("access-1"));
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
    expect(document.cookie).not.toContain("access-1");
  });
});
