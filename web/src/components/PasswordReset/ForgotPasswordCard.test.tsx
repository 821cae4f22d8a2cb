import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ForgotPasswordCard } from "./ForgotPasswordCard";

const ACCEPTED = { status: "accepted", detail: "If the address has an account, a reset link is on its way." };

async function requestLink(user: ReturnType<typeof userEvent.setup>, email = "ada@example.com") {
  await user.type(screen.getByRole("textbox", { name: /email/i }), email);
  await user.click(screen.getByRole("button", { name: "Send reset link" }));
}

describe("ForgotPasswordCard", () => {
  it("labels the address field and links back to sign-in", () => {
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    renderWithProviders(<ForgotPasswordCard />);

    expect(screen.getByText("Reset your password")).toBeInTheDocument();
    const email = screen.getByRole("textbox", { name: /email/i });
    expect(email).toHaveAttribute("type", "email");
    expect(email).toHaveAttribute("autocomplete", "email");
    // Nothing to send yet.
    expect(screen.getByRole("button", { name: "Send reset link" })).toBeDisabled();
    expect(screen.getByRole("link", { name: "Back to sign in" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/signin\/?$/),
    );
  });

  it("posts the trimmed address and shows the neutral confirmation", async () => {
    const api = fakeApi({ "POST /api/auth/password/forgot": () => json(ACCEPTED, 202) });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordCard />);

    await requestLink(user, "  ada@example.com ");

    const status = await screen.findByRole("status");
    expect(status).toHaveTextContent(
      "If ada@example.com belongs to an account, we sent it a link to choose a new password.",
    );
    expect(screen.getByText("Check your inbox")).toBeInTheDocument();
    expect(within(status).getByRole("link", { name: "Go to sign in" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/signin\/?$/),
    );
    expect(screen.queryByRole("textbox", { name: /email/i })).toBeNull();
    expect(api.callsTo("POST", "/api/auth/password/forgot")).toEqual([
      expect.objectContaining({ body: { email: "ada@example.com" } }),
    ]);
    // Anonymous call: no bearer token, and nothing signs the tab in.
    expect(api.callsTo("POST", "/api/auth/password/forgot")[0]?.headers.get("Authorization")).toBeNull();
    expect(authStore.accessToken()).toBeNull();
  });

  it.each([
    ["a known address", "ada@example.com", { status: "accepted", detail: "queued" }],
    ["an unknown address", "nobody@example.com", { status: "accepted", detail: "something else" }],
  ])("says the same thing for %s, whatever the 202 body", async (_, email, body) => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/password/forgot": () => json(body, 202) }).fetch);
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordCard />);

    await requestLink(user, email);

    const status = await screen.findByRole("status");
    expect(status).toHaveTextContent(
      `If ${email} belongs to an account, we sent it a link to choose a new password. The link works once and expires soon.`,
    );
    // The server's wording is not echoed: it could otherwise tell accounts apart.
    expect(status).not.toHaveTextContent(body.detail);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a rate limit in place and keeps the form", async () => {
    const api = fakeApi({
      "POST /api/auth/password/forgot": () =>
        new Response(
          JSON.stringify({
            type: "about:blank",
            title: "Too Many Requests",
            status: 429,
            code: "rate_limited",
            detail: "Too many attempts. Try again later.",
          }),
          {
            status: 429,
            headers: { "Content-Type": "application/problem+json", "Retry-After": "120" },
          },
        ),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordCard />);

    await requestLink(user);

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Try again in 2 minutes.");
    expect(screen.queryByRole("status")).toBeNull();
    expect(screen.queryByText("Check your inbox")).toBeNull();
    const email = screen.getByRole("textbox", { name: /email/i });
    expect(email).toHaveValue("ada@example.com");
    expect(screen.getByRole("button", { name: "Send reset link" })).toBeEnabled();
    // A 429 is final: no refresh, no silent retry.
    expect(api.calls.map((call) => `${call.method} ${call.path}`)).toEqual(["POST /api/auth/password/forgot"]);
  });

  it("shows an invalid address at the field", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/forgot": () =>
          problem(422, "validation_error", {
            detail: "The request has invalid fields.",
            errors: [{ field: "email", in: "body", message: "Enter a valid email address.", type: "value_error" }],
          }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordCard />);

    await requestLink(user, "ada@");

    const email = screen.getByRole("textbox", { name: /email/i });
    await waitFor(() => expect(email).toHaveAttribute("aria-invalid", "true"));
    expect(email).toHaveAccessibleDescription("Enter a valid email address.");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a loading button and sends one request however often it is pressed", async () => {
    let answer: (response: Response) => void = () => {};
    const api = fakeApi({
      "POST /api/auth/password/forgot": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordCard />);

    const email = screen.getByRole("textbox", { name: /email/i });
    await user.type(email, "ada@example.com");
    const button = screen.getByRole("button", { name: "Send reset link" });
    await user.dblClick(button);

    await waitFor(() => expect(button).toBeDisabled());
    expect(within(button).getByRole("progressbar")).toBeInTheDocument();
    // Enter in the field is the other way to submit; a disabled default button blocks it.
    await user.type(email, "{Enter}");
    expect(api.callsTo("POST", "/api/auth/password/forgot")).toHaveLength(1);

    answer(json(ACCEPTED, 202));
    expect(await screen.findByRole("status")).toHaveTextContent("If ada@example.com belongs to an account");
    expect(api.callsTo("POST", "/api/auth/password/forgot")).toHaveLength(1);
  });
});
