import { configure, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { parseLocation } from "@/components/Mail/location";
import { setUrl } from "@/components/Mail/fakeNavigation";
import { NavList } from "@/components/Shell/NavList";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { entry } from "./fixtures";

vi.mock("next/navigation", async () => (await import("@/components/Mail/fakeNavigation")).navigationModule);

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

function serve(outbox: unknown[], drafts: unknown[] = []) {
  const api = fakeApi({
    "GET /api/folders": () => json({ items: [] }),
    "GET /api/accounts": () => json({ items: [] }),
    "GET /api/users/me": () => json({ id: "u", email: "ana@example.com", name: "Ana" }),
    "GET /api/drafts": () => json({ items: drafts }),
    "GET /api/outbox": () => json({ items: outbox }),
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

const nav = () => screen.getByRole("navigation", { name: "Folders" });

beforeEach(() => {
  setUrl("/");
  authStore.setTokens(TOKENS);
});

describe("the Outbox and Drafts entries of the navigation", () => {
  it("shows the Outbox with what still waits, and Drafts with how many there are", async () => {
    const api = serve(
      [entry({ id: "q" }), entry({ id: "f", status: "failed" }), entry({ id: "s", status: "sent" })],
      [{ id: "d1", status: "draft" }],
    );
    renderWithProviders(<NavList current={parseLocation(new URLSearchParams())} />);
    await waitFor(() => expect(within(nav()).getByRole("link", { name: /^Outbox\W*2$/ })).toHaveAttribute("href", "/?folder=outbox"));
    expect(within(nav()).getByRole("link", { name: /^Drafts\W*1$/ })).toHaveAttribute("href", "/?folder=drafts");
    // The list of threads is never asked for drafts or the outbox.
    expect(api.calls.some((call) => call.path === "/api/threads")).toBe(false);
  });

  it("hides the Outbox when nothing waits, unless it is open", async () => {
    serve([entry({ id: "s", status: "sent" })]);
    const { unmount } = renderWithProviders(<NavList current={parseLocation(new URLSearchParams())} />);
    await waitFor(() => expect(within(nav()).getByRole("link", { name: "Drafts" })).toBeInTheDocument());
    expect(within(nav()).queryByRole("link", { name: /Outbox/ })).toBeNull();
    unmount();

    renderWithProviders(<NavList current={parseLocation(new URLSearchParams("folder=outbox"))} />);
    expect(await within(nav()).findByRole("link", { name: "Outbox" })).toHaveAttribute("aria-current", "page");
  });
});
