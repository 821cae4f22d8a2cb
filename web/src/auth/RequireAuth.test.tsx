import { act, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "@/test/render";

import { RequireAuth } from "./RequireAuth";
import { authStore } from "./store";

const replace = vi.hoisted(() => vi.fn());

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace }),
  usePathname: () => "/settings/security/",
}));

beforeEach(() => replace.mockReset());

describe("RequireAuth", () => {
  it("shows a spinner while the session is restored, then the page", () => {
    renderWithProviders(<RequireAuth>secret mail</RequireAuth>);
    expect(screen.getByRole("progressbar", { name: "Restoring your session" })).toBeInTheDocument();
    expect(screen.queryByText("secret mail")).toBeNull();

    act(() => authStore.setTokens({ access_token: "a", expires_in: 900 }));
    expect(screen.getByText("secret mail")).toBeInTheDocument();
    expect(replace).not.toHaveBeenCalled();
  });

  it("sends a signed-out visitor to sign in, coming back here afterwards", async () => {
    renderWithProviders(<RequireAuth>secret mail</RequireAuth>);
    act(() => authStore.setSignedOut("anonymous"));

    await waitFor(() =>
      expect(replace).toHaveBeenCalledWith("/signin/?next=%2Fsettings%2Fsecurity%2F"),
    );
    expect(screen.queryByText("secret mail")).toBeNull();
  });

  it("does not keep the page after an explicit sign-out", async () => {
    authStore.setTokens({ access_token: "a", expires_in: 900 });
    renderWithProviders(<RequireAuth>secret mail</RequireAuth>);
    act(() => authStore.setSignedOut("explicit"));
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/signin/"));
  });
});
