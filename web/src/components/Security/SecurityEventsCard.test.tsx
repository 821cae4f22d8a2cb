import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { SecurityEventsCard } from "./SecurityEventsCard";

const HOUR = 3600 * 1000;
const CHROME_LINUX =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";

function event(id: string, type: string, hoursAgo: number, extra: { ip?: string | null; user_agent?: string | null } = {}) {
  return {
    id: `00000000-0000-4000-8000-${id.padStart(12, "0")}`,
    type,
    created_at: new Date(Date.now() - hoursAgo * HOUR).toISOString(),
    ip: "203.0.113.9",
    user_agent: CHROME_LINUX,
    data: {},
    ...extra,
  };
}

// What the reader's locale says, computed independently of the component.
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The query strings of every GET /api/auth/events, in order. */
function eventQueries(api: ReturnType<typeof fakeApi>): Record<string, string>[] {
  return api.fetch.mock.calls
    .map(([input]) => new URL(input instanceof Request ? input.url : String(input), "http://localhost"))
    .filter((url) => url.pathname === "/api/auth/events")
    .map((url) => Object.fromEntries(url.searchParams));
}

beforeEach(() => {
  authStore.setTokens(TOKENS);
});

describe("SecurityEventsCard", () => {
  it("lists the events in words, with device, IP and time", async () => {
    const signedIn = event("1", "login_succeeded", 2);
    const failed = event("2", "login_failed", 26, { ip: "198.51.100.4", user_agent: "curl/8.5.0" });
    const unknown = event("3", "mailbox_exported", 50, { ip: null, user_agent: null });
    const api = fakeApi({
      "GET /api/auth/events": () => json({ items: [signedIn, failed, unknown], next_cursor: null }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SecurityEventsCard />);

    expect(screen.getByRole("region", { name: "Recent security activity" })).toBeInTheDocument();
    const list = await screen.findByRole("list", { name: "Security events" });
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(3);
    const [first, second, third] = items as [HTMLElement, HTMLElement, HTMLElement];

    // Newest first, as the server sent them; types read as sentences, never as codes.
    expect(first).toHaveTextContent("Signed in");
    expect(first).toHaveTextContent("Chrome on Linux · 203.0.113.9");
    expect(first).not.toHaveTextContent("login_succeeded");
    expect(second).toHaveTextContent("Failed sign-in attempt");
    expect(second).toHaveTextContent("curl · 198.51.100.4");
    expect(third).toHaveTextContent("Mailbox exported");
    expect(third).toHaveTextContent("Unknown device");

    // Suspicious events are flagged; ordinary ones are not.
    expect(within(second).getByRole("img", { name: "Attention" })).toBeInTheDocument();
    expect(within(first).queryByRole("img", { name: "Attention" })).toBeNull();

    const time = first.querySelector("time");
    expect(time).toHaveAttribute("datetime", signedIn.created_at);
    expect(time).toHaveTextContent(relative.format(-2, "hour"));
    expect(second.querySelector("time")).toHaveTextContent(relative.format(-1, "day"));
    // The exact date and time on hover.
    await user.hover(time as HTMLElement);
    expect(await screen.findByRole("tooltip")).toHaveTextContent(absolute.format(new Date(signedIn.created_at)));

    expect(api.callsTo("GET", "/api/auth/events")[0]?.headers.get("Authorization")).toBe("Bearer access-1");
    expect(eventQueries(api)).toEqual([{ limit: "20" }]);
    expect(screen.queryByRole("button", { name: "Show older activity" })).toBeNull();
  });

  it("loads older activity a page at a time", async () => {
    const api = fakeApi({
      "GET /api/auth/events": [
        () => json({ items: [event("1", "password_changed", 1)], next_cursor: "cursor-2" }),
        () => json({ items: [event("2", "mfa_disabled", 30)], next_cursor: null }),
      ],
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<SecurityEventsCard />);

    const list = await screen.findByRole("list", { name: "Security events" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    await user.click(screen.getByRole("button", { name: "Show older activity" }));

    expect(await within(list).findByText("Two-factor authentication turned off")).toBeInTheDocument();
    expect(within(list).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      expect.stringContaining("Password changed"),
      expect.stringContaining("Two-factor authentication turned off"),
    ]);
    expect(eventQueries(api)).toEqual([{ limit: "20" }, { limit: "20", cursor: "cursor-2" }]);
    expect(screen.queryByRole("button", { name: "Show older activity" })).toBeNull();
  });

  it("says when there is no activity yet", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /api/auth/events": () => json({ items: [], next_cursor: null }) }).fetch);
    renderWithProviders(<SecurityEventsCard />);

    expect(await screen.findByText("No activity recorded yet.")).toBeInTheDocument();
    expect(screen.queryByRole("list", { name: "Security events" })).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a failure instead of an empty list", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /api/auth/events": () => problem(500, "internal_error") }).fetch);
    renderWithProviders(<SecurityEventsCard />);

    expect(await screen.findByRole("alert")).toHaveTextContent("The server had a problem. Try again in a moment.");
    expect(screen.queryByText("No activity recorded yet.")).toBeNull();
    expect(screen.queryByRole("list", { name: "Security events" })).toBeNull();
  });

  it("shows the server's explanation when it gives one", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "GET /api/auth/events": () =>
          problem(400, "invalid_cursor", { detail: "The cursor is not valid for this list." }),
      }).fetch,
    );
    renderWithProviders(<SecurityEventsCard />);

    expect(await screen.findByRole("alert")).toHaveTextContent("The cursor is not valid for this list.");
  });
});
