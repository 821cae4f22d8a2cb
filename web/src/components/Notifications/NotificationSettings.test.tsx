import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { NotificationSettings } from "./NotificationSettings";

const ME = {
  id: "u1",
  email: "ada@example.com",
  name: "Ada",
  is_admin: false,
  email_verified: true,
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  new_mail_notifications: "none",
};

/** A stand-in for the browser's Notification with a settable permission. */
function stubNotification(permission: NotificationPermission, answer: NotificationPermission = permission) {
  const stub = {
    permission,
    requestPermission: vi.fn(async () => {
      stub.permission = answer;
      return answer;
    }),
  };
  vi.stubGlobal("Notification", stub);
  return stub;
}

beforeEach(() => authStore.setTokens(TOKENS));

describe("NotificationSettings", { timeout: 15_000 }, () => {
  it("saves the choice on the account", async () => {
    stubNotification("granted");
    let me = ME;
    const api = fakeApi({
      "GET /api/users/me": () => json(me),
      "PATCH /api/users/me": (call) => {
        me = { ...me, ...(call.body as object) };
        return json(me);
      },
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<NotificationSettings />);

    const none = await screen.findByRole("radio", { name: /^None/ });
    expect(none).toBeChecked();
    await user.click(screen.getByRole("radio", { name: /^All new mail/ }));

    await waitFor(() => expect(screen.getByRole("radio", { name: /^All new mail/ })).toBeChecked());
    expect(api.callsTo("PATCH", "/api/users/me")[0]?.body).toEqual({ new_mail_notifications: "all" });
    expect(screen.getByText(/This browser shows them/)).toBeInTheDocument();
  });

  it("says why when the setting cannot be saved", async () => {
    stubNotification("granted");
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "GET /api/users/me": () => json(ME),
        "PATCH /api/users/me": () => problem(503, "database_unavailable", { detail: "Try again in a moment." }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<NotificationSettings />);

    await user.click(await screen.findByRole("radio", { name: /^All new mail/ }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Couldn't save the setting. Try again in a moment.");
    expect(screen.getByRole("radio", { name: /^None/ })).toBeChecked();
  });

  it("asks the browser for permission", async () => {
    const stub = stubNotification("default", "granted");
    vi.stubGlobal("fetch", fakeApi({ "GET /api/users/me": () => json({ ...ME, new_mail_notifications: "all" }) }).fetch);
    const user = userEvent.setup();
    renderWithProviders(<NotificationSettings />);

    expect(await screen.findByText(/needs your permission/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Allow desktop notifications" }));

    expect(stub.requestPermission).toHaveBeenCalledTimes(1);
    expect(await screen.findByText(/This browser shows them/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Allow desktop notifications" })).toBeNull();
  });

  it("explains how to undo a block", async () => {
    stubNotification("denied");
    vi.stubGlobal("fetch", fakeApi({ "GET /api/users/me": () => json(ME) }).fetch);
    renderWithProviders(<NotificationSettings />);

    expect(await screen.findByText(/blocks notifications from Postwise/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Allow desktop notifications" })).toBeNull();
  });
});
