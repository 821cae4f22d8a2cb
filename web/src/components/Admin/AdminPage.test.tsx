import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { AdminPage } from "./AdminPage";

const NOW = new Date().toISOString();
const ME = {
  id: "u-admin",
  email: "boss@example.org",
  name: "Boss",
  is_admin: true,
  email_verified: true,
  mfa_enabled: false,
  created_at: "2026-01-01T10:00:00Z",
};
const USERS = [
  { ...ME, is_active: true, locked_until: null, last_seen_at: NOW },
  {
    ...ME,
    id: "u-mia",
    email: "mia@example.org",
    name: "Mia",
    is_admin: false,
    is_active: true,
    locked_until: null,
    last_seen_at: null,
  },
];
const SETTINGS = { registration: "open", registration_source: "environment", registration_default: "open" };

function page(items: typeof USERS) {
  return json({ items, total: items.length, offset: 0, limit: 50 });
}

describe("AdminPage", { timeout: 20_000 }, () => {
  it("is not available to someone who is not an admin", async () => {
    const api = fakeApi({ "GET /api/users/me": () => json({ ...ME, is_admin: false }) });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    renderWithProviders(<AdminPage />);

    expect(await screen.findByRole("heading", { name: "Administration isn't available" })).toBeInTheDocument();
    expect(api.calls.map((call) => call.path)).toEqual(["/api/users/me"]);
  });

  it("lists users, hides actions on the admin's own row, and changes the others", async () => {
    let users = USERS;
    const api = fakeApi({
      "GET /api/users/me": () => json(ME),
      "GET /api/admin/users": () => page(users),
      "GET /api/admin/settings": () => json(SETTINGS),
      "PATCH /api/admin/users/u-mia": (call) => {
        const changes = call.body as Record<string, boolean>;
        users = users.map((user) => (user.id === "u-mia" ? { ...user, ...changes } : user));
        return json(users[1]);
      },
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<AdminPage />);

    const list = await screen.findByRole("list", { name: "Users" });
    const [mine, mia] = within(list).getAllByTestId("user-row") as [HTMLElement, HTMLElement];
    expect(mine).toHaveTextContent("You");
    expect(mine).toHaveTextContent("last active just now");
    expect(within(mine).queryByRole("button")).toBeNull();
    expect(mia).toHaveTextContent("no sign-in yet");

    await user.click(within(mia).getByRole("button", { name: "Actions for Mia" }));
    await user.click(await screen.findByRole("menuitem", { name: "Make admin" }));
    await waitFor(() => expect(within(mia).getByText("Admin")).toBeInTheDocument());
    expect(api.callsTo("PATCH", "/api/admin/users/u-mia")[0]?.body).toEqual({ is_admin: true });

    await user.click(within(mia).getByRole("button", { name: "Actions for Mia" }));
    await user.click(await screen.findByRole("menuitem", { name: "Deactivate" }));
    const dialog = await screen.findByRole("dialog", { name: "Deactivate Mia?" });
    expect(dialog).toHaveTextContent("signed out on every device");
    await user.click(within(dialog).getByRole("button", { name: "Deactivate" }));
    await waitFor(() => expect(within(mia).getByText("Deactivated")).toBeInTheDocument());
    expect(api.callsTo("PATCH", "/api/admin/users/u-mia")[1]?.body).toEqual({ is_active: false });
  });

  it("creates an invitation link to copy and changes who may sign up", async () => {
    const api = fakeApi({
      "GET /api/users/me": () => json(ME),
      "GET /api/admin/users": () => page(USERS),
      "GET /api/admin/settings": () => json(SETTINGS),
      "POST /api/admin/invites": () => json({ token: "tok", link: "https://mail.example.org/signup/?token=tok" }, 201),
      "PUT /api/admin/settings": (call) =>
        json({ ...SETTINGS, ...(call.body as object), registration_source: "admin" }),
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<AdminPage />);

    await user.click(await screen.findByRole("button", { name: "Create invitation" }));
    expect(await screen.findByRole("textbox", { name: "Invitation link" })).toHaveValue(
      "https://mail.example.org/signup/?token=tok",
    );
    expect(api.callsTo("POST", "/api/admin/invites")[0]?.body).toEqual({ email: null });

    const modes = await screen.findByRole("radiogroup", { name: "Sign-up" });
    expect(within(modes).getByRole("radio", { name: /^Open/ })).toBeChecked();
    await user.click(within(modes).getByRole("radio", { name: /^Invite only/ }));
    await waitFor(() => expect(within(modes).getByRole("radio", { name: /^Invite only/ })).toBeChecked());
    expect(api.callsTo("PUT", "/api/admin/settings")[0]?.body).toEqual({ registration: "invite" });
    expect(screen.getByRole("button", { name: "Use the default" })).toBeInTheDocument();
  });
});
