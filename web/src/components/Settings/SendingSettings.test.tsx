import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { SendingSettings } from "./SendingSettings";

const ME = {
  id: "u1",
  email: "ada@example.com",
  name: "Ada",
  is_admin: false,
  email_verified: true,
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  new_mail_notifications: "none",
  send_undo_seconds: 10,
};

beforeEach(() => authStore.setTokens(TOKENS));

describe("SendingSettings", { timeout: 20_000 }, () => {
  it("saves the undo window on the account", async () => {
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
    renderWithProviders(<SendingSettings />);

    const select = await screen.findByRole("combobox", { name: "Undo send" });
    expect(select).toHaveTextContent("10 seconds");
    await user.click(select);
    const options = within(await screen.findByRole("listbox")).getAllByRole("option");
    expect(options.map((option) => option.textContent)).toEqual([
      "Off: send at once",
      "5 seconds",
      "10 seconds",
      "20 seconds",
      "30 seconds",
    ]);
    await user.click(screen.getByRole("option", { name: "30 seconds" }));

    await waitFor(() => expect(api.callsTo("PATCH", "/api/users/me")[0]?.body).toEqual({ send_undo_seconds: 30 }));
    await waitFor(() => expect(screen.getByRole("combobox", { name: "Undo send" })).toHaveTextContent("30 seconds"));
    expect(screen.getByText("Sent messages wait 30 seconds in the outbox, when Undo still takes them back.")).toBeInTheDocument();

    await user.click(screen.getByRole("combobox", { name: "Undo send" }));
    await user.click(await screen.findByRole("option", { name: "Off: send at once" }));
    await waitFor(() => expect(api.callsTo("PATCH", "/api/users/me")[1]?.body).toEqual({ send_undo_seconds: 0 }));
    expect(await screen.findByText("Messages leave as soon as you press Send.")).toBeInTheDocument();
  });

  it("says why when the setting cannot be saved, and shows the saved value again", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "GET /api/users/me": () => json(ME),
        "PATCH /api/users/me": () => problem(503, "database_unavailable", { detail: "Try again in a moment." }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<SendingSettings />);
    await user.click(await screen.findByRole("combobox", { name: "Undo send" }));
    await user.click(await screen.findByRole("option", { name: "5 seconds" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Couldn't save the setting. Try again in a moment.");
    expect(screen.getByRole("combobox", { name: "Undo send" })).toHaveTextContent("10 seconds");
  });
});
