import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { NotificationSettings } from "./NotificationSettings";

const ME = { id: "u1", email: "ada@example.com", name: "Ada", new_mail_notifications: "none" };

beforeEach(() => authStore.setTokens(TOKENS));

describe("desktop notifications for important mail only", { timeout: 15_000 }, () => {
  it("offers it beside all and none, saves it, and asks the browser for permission", async () => {
    vi.stubGlobal("Notification", { permission: "default", requestPermission: vi.fn(async () => "granted") });
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

    const radios = await screen.findAllByRole("radio");
    expect(radios.map((radio) => radio.closest("label")?.textContent)).toEqual([
      expect.stringMatching(/^All new mail/),
      expect.stringMatching(/^Important mail only/),
      expect.stringMatching(/^None/),
    ]);
    await user.click(screen.getByRole("radio", { name: /^Important mail only/ }));
    await waitFor(() => expect(screen.getByRole("radio", { name: /^Important mail only/ })).toBeChecked());
    expect(api.callsTo("PATCH", "/api/users/me")[0]?.body).toEqual({ new_mail_notifications: "important" });
    // Chosen, but this browser still has to allow them.
    expect(screen.getByText(/One more step/)).toBeInTheDocument();
  });
});
