import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, json, problem } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { VerifyEmailCard } from "./VerifyEmailCard";

const search = vi.hoisted(() => ({ value: "" }));
vi.mock("next/navigation", () => ({
  useSearchParams: () => new URLSearchParams(search.value),
}));

describe("VerifyEmailCard", () => {
  it("posts the token once and links to sign-in", async () => {
    search.value = "token=tok-ok";
    const api = fakeApi({ "POST /api/auth/verify-email": () => json({ status: "verified" }) });
    vi.stubGlobal("fetch", api.fetch);
    const first = renderWithProviders(<VerifyEmailCard />);
    first.unmount();
    renderWithProviders(<VerifyEmailCard />);

    expect(await screen.findByText("Your email address is confirmed.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Sign in" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/signin\/?\?verified=1$/),
    );
    // The token is single-use: a remount must not post it again.
    expect(api.callsTo("POST", "/api/auth/verify-email")).toEqual([
      expect.objectContaining({ body: { token: "tok-ok" } }),
    ]);
  });

  it("explains an invalid or used link", async () => {
    search.value = "token=tok-bad";
    vi.stubGlobal("fetch", fakeApi({ "POST /api/auth/verify-email": () => problem(400, "invalid_token") }).fetch);
    renderWithProviders(<VerifyEmailCard />);
    expect(await screen.findByRole("alert")).toHaveTextContent(/invalid, already used or expired/);
  });
});
