import { screen, waitFor, waitForElementToBeRemoved, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { jsonFetch, renderWithProviders } from "@/test/render";

import { AppShell } from "./AppShell";
import { isActive } from "./navigation";

vi.mock("next/navigation", () => ({ usePathname: () => "/sent/" }));

const ENTRIES = ["Inbox", "Starred", "Sent", "Drafts", "Archive", "Settings"];

describe("AppShell", () => {
  it("renders the product name, every navigation entry and the content", () => {
    vi.stubGlobal("fetch", jsonFetch({ status: "ok" }));
    renderWithProviders(<AppShell>content here</AppShell>);

    expect(screen.getByText("Postwise")).toBeInTheDocument();
    expect(screen.getByRole("main")).toHaveTextContent("content here");
    const nav = screen.getByRole("navigation", { name: "Folders" });
    const links = within(nav).getAllByRole("link");
    expect(links.map((link) => link.textContent)).toEqual(ENTRIES);
    // next/link adds the trailing slash only inside a Next build (trailingSlash).
    expect(within(nav).getByRole("link", { name: "Settings" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/settings\/?$/),
    );
    expect(within(nav).getByRole("link", { name: "Sent" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    expect(within(nav).getByRole("link", { name: "Inbox" })).not.toHaveAttribute("aria-current");
  });

  it("opens the mobile drawer from the menu button and closes it on navigation", async () => {
    vi.stubGlobal("fetch", jsonFetch({ status: "ok" }));
    const user = userEvent.setup();
    renderWithProviders(<AppShell>content</AppShell>);
    const button = screen.getByRole("button", { name: "Open navigation" });

    expect(document.getElementById("mobile-navigation")).toBeNull();
    expect(button).toHaveAttribute("aria-expanded", "false");

    await user.click(button);
    const drawer = document.getElementById("mobile-navigation");
    expect(drawer).not.toBeNull();
    expect(button).toHaveAttribute("aria-expanded", "true");
    const drafts = within(drawer as HTMLElement).getByRole("link", { name: "Drafts" });

    await user.click(drafts);
    await waitForElementToBeRemoved(() => document.getElementById("mobile-navigation"));
    expect(button).toHaveAttribute("aria-expanded", "false");
  });

  it("shows the API status from GET /healthz", async () => {
    const fetchMock = vi.fn(jsonFetch({ status: "ok" }));
    vi.stubGlobal("fetch", fetchMock);
    renderWithProviders(<AppShell>content</AppShell>);

    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("API ok"));
    const request = fetchMock.mock.calls[0]?.[0];
    expect(request).toBeInstanceOf(Request);
    expect(new URL((request as Request).url).pathname).toBe("/healthz");
  });

  it("shows the API as unreachable when the health check fails", async () => {
    vi.stubGlobal("fetch", jsonFetch({ title: "Service Unavailable" }, 503));
    renderWithProviders(<AppShell>content</AppShell>);

    await waitFor(() =>
      expect(screen.getByRole("status")).toHaveTextContent("API unreachable"),
    );
  });
});

describe("isActive", () => {
  it("matches with and without the trailing slash", () => {
    expect(isActive("/sent/", "/sent")).toBe(true);
    expect(isActive("/sent/", "/sent/")).toBe(true);
    expect(isActive("/", "/")).toBe(true);
    expect(isActive("/", "/sent/")).toBe(false);
    expect(isActive("/sent/", null)).toBe(false);
  });
});
