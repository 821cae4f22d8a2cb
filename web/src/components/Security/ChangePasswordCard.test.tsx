import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ChangePasswordCard } from "./ChangePasswordCard";
import { SecurityEventsCard } from "./SecurityEventsCard";

const ME = {
  id: "7f0c5a52-4a5e-4a43-9d0e-3f1f7f4b2a11",
  email: "ada@example.com",
  name: "Ada Lovelace",
  is_admin: false,
  email_verified: true,
  mfa_enabled: false,
  created_at: "2026-01-02T10:00:00Z",
};
const STRENGTH = { score: 4, acceptable: true, warning: "", suggestions: [], crack_time_display: "centuries" };
const CURRENT = "old-pass";
const NEXT = "lilac-93";

const ROUTES = {
  "GET /api/users/me": () => json(ME),
  "POST /api/auth/password/strength": () => json(STRENGTH),
};

beforeEach(() => {
  authStore.setTokens(TOKENS);
});

const currentField = () => screen.getByLabelText(/^Current password/);
const newField = () => screen.getByLabelText(/^New password/);
const confirmField = () => screen.getByLabelText(/^Confirm new password/);

async function changePassword(
  user: ReturnType<typeof userEvent.setup>,
  { current = CURRENT, next = NEXT, confirm = next }: { current?: string; next?: string; confirm?: string } = {},
) {
  await user.type(currentField(), current);
  await user.type(newField(), next);
  await user.type(confirmField(), confirm);
  await user.click(screen.getByRole("button", { name: "Change password" }));
}

describe("ChangePasswordCard", () => {
  it("labels the fields for password managers", () => {
    vi.stubGlobal("fetch", fakeApi(ROUTES).fetch);
    renderWithProviders(<ChangePasswordCard />);

    expect(screen.getByRole("region", { name: "Password" })).toBeInTheDocument();
    expect(currentField()).toHaveAttribute("autocomplete", "current-password");
    expect(currentField()).toHaveAttribute("type", "password");
    expect(newField()).toHaveAttribute("autocomplete", "new-password");
    expect(confirmField()).toHaveAttribute("autocomplete", "new-password");
    expect(screen.getByRole("button", { name: "Change password" })).toBeDisabled();
  });

  it("posts both passwords with the bearer token and confirms the change", async () => {
    let answer: (response: Response) => void = () => {};
    const api = fakeApi({
      ...ROUTES,
      "POST /api/auth/password/change": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordCard />);

    await changePassword(user);

    const button = screen.getByRole("button", { name: "Change password" });
    await waitFor(() => expect(button).toBeDisabled());
    expect(within(button).getByRole("progressbar")).toBeInTheDocument();
    answer(json({ status: "changed" }));

    const status = await screen.findByRole("status");
    expect(status).toHaveTextContent("Your password was changed.");
    // The form is emptied so the passwords do not linger on screen.
    expect(currentField()).toHaveValue("");
    expect(newField()).toHaveValue("");
    expect(confirmField()).toHaveValue("");

    const changes = api.callsTo("POST", "/api/auth/password/change");
    expect(changes).toHaveLength(1);
    expect(changes[0]?.body).toEqual({ current_password: CURRENT, new_password: NEXT });
    expect(changes[0]?.headers.get("Authorization")).toBe("Bearer access-1");
    // This session is kept.
    expect(authStore.accessToken()).toBe("access-1");

    await user.click(within(status).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("refreshes the activity list after a change", async () => {
    const changed = {
      id: "0b9e8a4e-3a0e-4f0e-8a52-0d3c0b8c6c01",
      type: "password_changed",
      created_at: new Date().toISOString(),
      ip: "10.0.0.7",
      user_agent: null,
      data: {},
    };
    let events: (typeof changed)[] = [];
    const api = fakeApi({
      ...ROUTES,
      "GET /api/auth/events": () => json({ items: events, next_cursor: null }),
      "POST /api/auth/password/change": () => {
        events = [changed];
        return json({ status: "changed" });
      },
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(
      <>
        <ChangePasswordCard />
        <SecurityEventsCard />
      </>,
    );

    expect(await screen.findByText("No activity recorded yet.")).toBeInTheDocument();
    await changePassword(user);

    const list = await screen.findByRole("list", { name: "Security events" });
    expect(within(list).getByText("Password changed")).toBeInTheDocument();
    expect(api.callsTo("GET", "/api/auth/events")).toHaveLength(2);
  });

  it("rates the new password against the account's email and name", async () => {
    const api = fakeApi(ROUTES);
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordCard />);

    await waitFor(() => expect(api.callsTo("GET", "/api/users/me")).toHaveLength(1));
    await user.type(newField(), NEXT);

    await waitFor(() => expect(screen.getByTestId("strength-label")).toHaveTextContent("Strength: Very strong"));
    expect(api.callsTo("POST", "/api/auth/password/strength").at(-1)?.body).toEqual({
      password: NEXT,
      email: "ada@example.com",
      name: "Ada Lovelace",
    });
  });

  it("does not send mismatched passwords", async () => {
    const api = fakeApi(ROUTES);
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordCard />);

    await changePassword(user, { confirm: "lilac-39" });

    expect(confirmField()).toHaveAttribute("aria-invalid", "true");
    expect(confirmField()).toHaveAccessibleDescription("The passwords do not match.");
    expect(api.callsTo("POST", "/api/auth/password/change")).toHaveLength(0);
  });

  it("shows a wrong current password at that field and stays signed in", async () => {
    const api = fakeApi({
      ...ROUTES,
      "POST /api/auth/password/change": () =>
        problem(401, "invalid_credentials", { detail: "The email or password is incorrect." }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordCard />);

    await changePassword(user, { current: "not-it" });

    await waitFor(() => expect(currentField()).toHaveAttribute("aria-invalid", "true"));
    expect(currentField()).toHaveAccessibleDescription("The current password is not right.");
    expect(newField()).not.toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByRole("status")).toBeNull();
    expect(api.callsTo("POST", "/api/auth/password/change")[0]?.body).toEqual({
      current_password: "not-it",
      new_password: NEXT,
    });
    // A wrong password is an answer, not an expired token: no refresh, no sign-out.
    expect(api.callsTo("POST", "/api/auth/refresh")).toHaveLength(0);
    expect(authStore.accessToken()).toBe("access-1");
    // Typed values stay so the user can correct the one that was wrong.
    expect(newField()).toHaveValue(NEXT);
  });

  it("shows a weak_password answer at the new-password field", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        ...ROUTES,
        "POST /api/auth/password/change": () =>
          problem(422, "weak_password", {
            detail: "Choose a stronger password.",
            errors: [
              {
                field: "new_password",
                in: "body",
                message: "Names and surnames by themselves are easy to guess.",
                type: "weak_password",
              },
            ],
            feedback: {
              warning: "Names and surnames by themselves are easy to guess.",
              suggestions: ["Add another word or two."],
            },
            score: 1,
          }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordCard />);

    await changePassword(user, { next: "lovelace" });

    await waitFor(() => expect(newField()).toHaveAttribute("aria-invalid", "true"));
    expect(newField()).toHaveAccessibleDescription(/Names and surnames by themselves are easy to guess\./);
    expect(currentField()).not.toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("note")).toHaveTextContent("Add another word or two.");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("shows other problems in place", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        ...ROUTES,
        "POST /api/auth/password/change": () =>
          new Response(
            JSON.stringify({ type: "about:blank", title: "Too Many Requests", status: 429, code: "rate_limited" }),
            { status: 429, headers: { "Content-Type": "application/problem+json", "Retry-After": "30" } },
          ),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordCard />);

    await changePassword(user);

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Try again in 30 seconds.");
    expect(currentField()).not.toHaveAttribute("aria-invalid", "true");
    expect(newField()).not.toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByRole("status")).toBeNull();
  });
});
