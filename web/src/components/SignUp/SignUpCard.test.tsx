import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { SignUpCard } from "./SignUpCard";

const search = vi.hoisted(() => ({ value: "" }));
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams(search.value),
}));

const STRENGTH = { score: 4, acceptable: true, warning: "", suggestions: [], crack_time_display: "centuries" };

async function fillAndSubmit(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByRole("textbox", { name: "Name" }), "Ada");
  await user.type(screen.getByRole("textbox", { name: /email/i }), "ada@example.com");
  await user.type(screen.getByLabelText(/^Password/, { selector: "input" }), "tr0ub4dor&3");
  await user.click(screen.getByRole("button", { name: "Create account" }));
}

afterEach(() => {
  authStore.setSignedOut("anonymous");
});

describe("SignUpCard", () => {
  it("shows a weak_password answer at the password field", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/strength": () => json(STRENGTH),
        "POST /api/auth/register": () =>
          problem(422, "weak_password", {
            errors: [{ field: "password", in: "body", message: "This is similar to a commonly used password.", type: "weak_password" }],
            feedback: { warning: "", suggestions: ["Add another word or two."] },
          }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<SignUpCard />);

    await fillAndSubmit(user);

    const password = screen.getByLabelText(/^Password/, { selector: "input" });
    expect(await screen.findByText("This is similar to a commonly used password.")).toBeInTheDocument();
    expect(password).toHaveAttribute("aria-invalid", "true");
    expect(password).toHaveAccessibleDescription(/commonly used password/);
    expect(screen.getByText("Add another word or two.")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("sends the invitation token and then says to check the inbox", async () => {
    search.value = "token=invite-123";
    const api = fakeApi({
      "POST /api/auth/password/strength": () => json(STRENGTH),
      "POST /api/auth/register": () => json({ status: "accepted", detail: "sent" }, 202),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignUpCard />);

    expect(screen.getByText(/You were invited/)).toBeInTheDocument();
    await fillAndSubmit(user);

    expect(await screen.findByText("Check your inbox")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("ada@example.com");
    expect(api.callsTo("POST", "/api/auth/register")[0]?.body).toEqual({
      email: "ada@example.com",
      password: "tr0ub4dor&3",
      name: "Ada",
      invite_token: "invite-123",
    });
    search.value = "";
  });

  it("signs in a server's first user at once instead of promising a link", async () => {
    const api = fakeApi({
      "POST /api/auth/password/strength": () => json(STRENGTH),
      "POST /api/auth/register": () =>
        json({ status: "signed_in", detail: "first", admin: true, session: TOKENS }, 201),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignUpCard />);

    await fillAndSubmit(user);

    expect(await screen.findByText("Your account is ready")).toBeInTheDocument();
    const status = screen.getByRole("status");
    expect(status).toHaveTextContent("You are signed in as ada@example.com.");
    expect(status).toHaveTextContent(/first account on this Postwise server, you are its administrator/);
    expect(status).not.toHaveTextContent(/spam|confirmation link to/);
    expect(screen.queryByText("Check your inbox")).toBeNull();
    expect(authStore.accessToken()).toBe("access-1");
    expect(screen.getByRole("link", { name: "Go to your inbox" })).toHaveAttribute("href", "/");
  });

  it("tells the first user who must confirm by mail that it will be the administrator", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/strength": () => json(STRENGTH),
        "POST /api/auth/register": () =>
          json({ status: "accepted", detail: "sent", admin: true, session: null }, 202),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<SignUpCard />);

    await fillAndSubmit(user);

    expect(await screen.findByText("Check your inbox")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent(/you will be its administrator/);
    expect(authStore.accessToken()).toBeNull();
  });

  it("explains a closed instance", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/strength": () => json(STRENGTH),
        "POST /api/auth/register": () => problem(403, "registration_closed"),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<SignUpCard />);
    await fillAndSubmit(user);
    expect(await screen.findByRole("alert")).toHaveTextContent(/does not accept new accounts/);
  });
});
