import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, noContent, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { SignInCard } from "./SignInCard";

const navigation = vi.hoisted(() => ({
  replace: vi.fn(),
  search: "",
}));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: navigation.replace, push: vi.fn() }),
  useSearchParams: () => new URLSearchParams(navigation.search),
}));

beforeEach(() => {
  navigation.replace.mockReset();
  navigation.search = "";
  authStore.setSignedOut("anonymous");
});

async function submitCredentials(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText("Email", { exact: false }), "ada@example.com");
  await user.type(screen.getByLabelText(/^Password/, { selector: "input" }), "correct horse battery");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("SignInCard", () => {
  it("labels the fields for password managers", () => {
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    renderWithProviders(<SignInCard />);

    expect(screen.getByRole("heading", { name: "Postwise" })).toBeInTheDocument();
    const email = screen.getByRole("textbox", { name: /email/i });
    expect(email).toHaveAttribute("type", "email");
    expect(email).toHaveAttribute("autocomplete", "email");
    const password = screen.getByLabelText(/^Password/, { selector: "input" });
    expect(password).toHaveAttribute("type", "password");
    expect(password).toHaveAttribute("autocomplete", "current-password");
    expect(screen.getByRole("link", { name: "Forgot password?" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/forgot-password\/?$/),
    );
    expect(screen.getByRole("link", { name: "Create an account" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/signup\/?$/),
    );
  });

  it("signs in without MFA and returns to ?next=", async () => {
    navigation.search = "next=%2Fsent%2F";
    const api = fakeApi({ "POST /api/auth/login": () => json(TOKENS) });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);

    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/sent/"));
    expect(authStore.accessToken()).toBe("access-1");
    const [login] = api.callsTo("POST", "/api/auth/login");
    expect(login?.body).toEqual({ email: "ada@example.com", password: "correct horse battery" });
    expect(login?.headers.get("X-Postwise-Client")).toBeNull();
  });

  it("asks for the TOTP code in the same card and retries a wrong one", async () => {
    const api = fakeApi({
      "POST /api/auth/login": () => json({ mfa_required: true, mfa_token: "mfa-1" }),
      "POST /api/auth/login/mfa": [() => problem(401, "invalid_mfa_code"), () => json(TOKENS)],
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);
    const code = await screen.findByRole("textbox", { name: /authentication code/i });
    expect(screen.getByText("Two-factor authentication")).toBeInTheDocument();
    expect(code).toHaveAttribute("autocomplete", "one-time-code");
    expect(code).toHaveAttribute("inputmode", "numeric");
    expect(authStore.accessToken()).toBeNull();

    await user.type(code, "000000");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("That code is not valid. Try again.")).toBeInTheDocument();
    expect(code).toHaveAttribute("aria-invalid", "true");

    await user.clear(code);
    await user.type(code, "123 456");
    await user.click(screen.getByRole("button", { name: "Verify" }));

    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/"));
    expect(authStore.accessToken()).toBe("access-1");
    expect(api.callsTo("POST", "/api/auth/login/mfa").map((call) => call.body)).toEqual([
      { mfa_token: "mfa-1", code: "000000" },
      { mfa_token: "mfa-1", code: "123456" },
    ]);
  });

  it("accepts a recovery code instead", async () => {
    const api = fakeApi({
      "POST /api/auth/login": () => json({ mfa_required: true, mfa_token: "mfa-1" }),
      "POST /api/auth/login/mfa": () => json(TOKENS),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);
    await user.click(await screen.findByRole("button", { name: "Use a recovery code" }));
    await user.type(screen.getByRole("textbox", { name: /recovery code/i }), "ABCD-efgh-ijkl");
    await user.click(screen.getByRole("button", { name: "Verify" }));

    await waitFor(() => expect(authStore.accessToken()).toBe("access-1"));
    expect(api.callsTo("POST", "/api/auth/login/mfa")[0]?.body).toEqual({
      mfa_token: "mfa-1",
      code: "abcd-efgh-ijkl",
    });
  });

  it("starts over when the MFA step expired", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/login": () => json({ mfa_required: true, mfa_token: "mfa-1" }),
        "POST /api/auth/login/mfa": () => problem(401, "invalid_token"),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);
    await user.type(await screen.findByRole("textbox", { name: /authentication code/i }), "123456");
    await user.click(screen.getByRole("button", { name: "Verify" }));

    expect(await screen.findByText(/took too long/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sign in" })).toBeInTheDocument();
  });

  it("shows wrong credentials and offers to resend an unconfirmed address's link", async () => {
    const api = fakeApi({
      "POST /api/auth/login": [
        () => problem(401, "invalid_credentials"),
        () => problem(403, "email_not_verified"),
      ],
      "POST /api/auth/verify-email/resend": () => json({ status: "accepted", detail: "ok" }, 202),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);
    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong email or password.");
    // A 401 from login is an answer, not an expired token: no refresh attempt.
    expect(api.callsTo("POST", "/api/auth/refresh")).toHaveLength(0);

    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.click(await screen.findByRole("button", { name: "Resend verification email" }));
    expect(await screen.findByText(/new link is on its way/)).toBeInTheDocument();
    expect(api.callsTo("POST", "/api/auth/verify-email/resend")[0]?.body).toEqual({
      email: "ada@example.com",
    });
  });

  it("says how long to wait when rate limited", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/login": () =>
          new Response(JSON.stringify({ title: "Too Many Requests", status: 429, code: "rate_limited" }), {
            status: 429,
            headers: { "Content-Type": "application/problem+json", "Retry-After": "30" },
          }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);
    expect(await screen.findByRole("alert")).toHaveTextContent("Try again in 30 seconds.");
  });

  it("shows the success message after a password reset", () => {
    navigation.search = "reset=1";
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    renderWithProviders(<SignInCard />);
    expect(screen.getByText(/Your password was changed/)).toBeInTheDocument();
  });

  it("never follows ?next= off the site", async () => {
    navigation.search = "next=%2F%2Fevil.example%2F";
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/login": () => json(TOKENS) }).fetch);
    const user = userEvent.setup();
    renderWithProviders(<SignInCard />);

    await submitCredentials(user);
    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/"));
  });

  it("leaves for ?next= when the session is already restored", async () => {
    navigation.search = "next=%2Fdrafts%2F";
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/logout": () => noContent() }).fetch);
    authStore.reset();
    authStore.setTokens(TOKENS);
    renderWithProviders(<SignInCard />);
    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/drafts/"));
  });
});
