import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { Dashboard as DashboardData } from "@/api/dashboard";
import { fetchDashboard } from "@/api/dashboard";
import { authStore } from "@/auth/store";
import { json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { Dashboard } from "./Dashboard";

const NOW = Date.now();
const hoursAgo = (hours: number) => new Date(NOW - hours * 3600_000).toISOString();

function days(count: number): DashboardData["activity"]["days"] {
  return Array.from({ length: count }, (_, n) => ({
    day: new Date(Date.UTC(2026, 10, 1 + n)).toISOString().slice(0, 10),
    received: n === 4 ? 80 : 20,
    sent: n === 4 ? 12 : 5,
  }));
}

const DATA: DashboardData = {
  days: 30,
  timezone: "Europe/Paris",
  since: "2026-11-01",
  generated_at: hoursAgo(0),
  activity: { days: days(30), received: 660, sent: 157 },
  top_senders: [
    { name: "Ada Lovelace", address: "ada@example.com", count: 48 },
    { name: "", address: "billing@shop.example", count: 12 },
  ],
  unread: [
    { account_id: "a1", mailbox: "me@example.com", folder_id: "f-inbox", folder: "INBOX", role: "inbox", unread: 1204 },
    { account_id: "a2", mailbox: "me@work.example", folder_id: "f-clients", folder: "Clients", role: null, unread: 3 },
  ],
  unread_total: 1207,
  waiting: {
    count: 14,
    after_days: 3,
    threads: [
      {
        thread_id: "t-quote",
        subject: "Quote for March",
        to: [{ name: "Kim", address: "kim@client.example" }],
        sent_at: hoursAgo(24 * 6),
        days_waiting: 6,
      },
      { thread_id: "t-empty", subject: "", to: [], sent_at: hoursAgo(24 * 4), days_waiting: 4 },
    ],
  },
  mailboxes: [
    {
      id: "a1",
      email: "me@example.com",
      display_name: "",
      kind: "imap",
      is_demo: false,
      sync_state: "error",
      last_synced_at: hoursAgo(2),
      last_error: "The server refused the password: check it in the mailbox settings.",
      message_count: 100000,
      storage_bytes: 2.5 * 1024 ** 3,
    },
    {
      id: "a2",
      email: "me@work.example",
      display_name: "Work",
      kind: "imap",
      is_demo: false,
      sync_state: "idle",
      last_synced_at: hoursAgo(0.1),
      last_error: null,
      message_count: 1,
      storage_bytes: 512 * 1024 ** 2,
    },
  ],
};

const EMPTY: DashboardData = {
  ...DATA,
  activity: { days: days(30).map((d) => ({ ...d, received: 0, sent: 0 })), received: 0, sent: 0 },
  top_senders: [],
  unread: [],
  unread_total: 0,
  waiting: { count: 0, after_days: 3, threads: [] },
  mailboxes: [],
};

/** A fetch stub that records the query of each dashboard request and answers in turn. */
function dashboardApi(...answers: (() => Response)[]) {
  const queries: URLSearchParams[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(input instanceof Request ? input.url : String(input), "http://localhost");
    if (url.pathname !== "/api/dashboard") return problem(404, "not_found");
    queries.push(url.searchParams);
    const answer = answers[Math.min(queries.length - 1, answers.length - 1)];
    return answer ? answer() : problem(404, "not_found");
  });
  vi.stubGlobal("fetch", fetch);
  return queries;
}

beforeEach(() => {
  // Charts size themselves to their container; the test DOM has no layout to observe.
  vi.stubGlobal(
    "ResizeObserver",
    class {
      observe() {}
      unobserve() {}
      disconnect() {}
    },
  );
  authStore.setTokens(TOKENS);
});

describe("Dashboard", () => {
  it("writes out every figure and links the rows to the mail", async () => {
    const queries = dashboardApi(() => json(DATA));
    renderWithProviders(<Dashboard />);

    expect(await screen.findByText("660 received · 157 sent")).toBeInTheDocument();
    expect(queries[0]?.get("days")).toBe("30");
    expect(queries[0]?.get("tz")).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(screen.getByRole("img", { name: /660 messages received and 157 sent/ })).toBeInTheDocument();

    const waiting = screen.getByRole("region", { name: "Waiting for a reply" });
    expect(within(waiting).getByTestId("waiting-figure")).toHaveTextContent("14");
    const quote = within(waiting).getByRole("link", { name: /Quote for March/ });
    expect(quote).toHaveAttribute("href", "/?thread=t-quote");
    expect(quote).toHaveTextContent("To Kim");
    expect(quote).toHaveTextContent("6 days");
    expect(within(waiting).getByRole("link", { name: /\(no subject\)/ })).toHaveAttribute("href", "/?thread=t-empty");
    expect(within(waiting).getByText("The 2 that have waited longest.")).toBeInTheDocument();

    const unread = screen.getByRole("region", { name: "Unread" });
    expect(within(unread).getByTestId("unread-figure")).toHaveTextContent("1,207");
    const inbox = within(unread).getByRole("link", { name: /Inbox/ });
    expect(inbox).toHaveAttribute("href", "/?folder=f-inbox");
    expect(inbox).toHaveTextContent("me@example.com");
    expect(inbox).toHaveTextContent("1,204");

    const senders = screen.getByRole("region", { name: "Top senders" });
    expect(within(senders).getByTestId("senders-figure")).toHaveTextContent("Ada Lovelace");
    expect(within(senders).getByText("wrote the most: 48 messages in 30 days")).toBeInTheDocument();

    const mailboxes = screen.getByRole("region", { name: "Mailboxes" });
    expect(within(mailboxes).getByTestId("mailboxes-figure")).toHaveTextContent("3 GB");
    const [broken, work] = within(mailboxes).getAllByTestId("mailbox-row");
    expect(broken).toHaveTextContent("Needs attention");
    expect(broken).toHaveTextContent("The server refused the password");
    expect(broken).toHaveTextContent("100,000 messages · 2.5 GB");
    expect(broken).toHaveTextContent("Synced 2 hours ago");
    expect(work).toHaveTextContent("Work");
    expect(work).toHaveTextContent("Up to date");
    expect(work).toHaveTextContent("1 message · 512 MB");
    expect(within(mailboxes).getByRole("link", { name: "Manage mailboxes" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/settings\/mailboxes\/?$/),
    );

    // Every control and region is named (colour contrast needs a real browser: e2e checks it).
    const results = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
    expect(results.violations.map((violation) => violation.id)).toEqual([]);
  }, 30_000);

  it("asks for another period and keeps the last one on screen meanwhile", async () => {
    const week = { ...DATA, days: 7, activity: { days: days(7), received: 140, sent: 35 } };
    const queries = dashboardApi(
      () => json(DATA),
      () => json(week),
    );
    const user = userEvent.setup();
    renderWithProviders(<Dashboard />);
    await screen.findByText("660 received · 157 sent");

    await user.click(screen.getByRole("button", { name: "Last 7 days" }));

    expect(await screen.findByText("140 received · 35 sent")).toBeInTheDocument();
    expect(queries.map((query) => query.get("days"))).toEqual(["30", "7"]);
    expect(screen.getByRole("button", { name: "Last 7 days" })).toHaveAttribute("aria-pressed", "true");
  });

  it("leads a user without a mailbox to add one", async () => {
    dashboardApi(() => json(EMPTY));
    renderWithProviders(<Dashboard />);

    expect(await screen.findByRole("heading", { name: "No mailbox yet" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Add a mailbox" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/settings\/mailboxes\/?$/),
    );
    expect(screen.queryByRole("group", { name: "Period" })).toBeNull();
  });

  it("says so when a period holds no mail", async () => {
    dashboardApi(() => json({ ...EMPTY, mailboxes: DATA.mailboxes }));
    renderWithProviders(<Dashboard />);

    expect(await screen.findByText("No mail in the last 30 days.")).toBeInTheDocument();
    expect(screen.getByText("Nobody wrote to you in the last 30 days.")).toBeInTheDocument();
    expect(screen.getByText("Nothing unread. You are all caught up.")).toBeInTheDocument();
    expect(
      screen.getByText("Nobody has left you waiting more than 3 days in the last 30 days."),
    ).toBeInTheDocument();
  });

  it("shows skeletons while loading, then an error with a way to try again", async () => {
    const queries = dashboardApi(
      () => problem(503, "service_unavailable", { detail: "The database is not reachable right now." }),
      () => json(DATA),
    );
    const user = userEvent.setup();
    renderWithProviders(<Dashboard />);
    expect(screen.getByLabelText("Loading the dashboard")).toBeInTheDocument();

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Couldn't load the dashboard. The database is not reachable right now.");
    await user.click(within(alert).getByRole("button", { name: "Try again" }));

    expect(await screen.findByText("660 received · 157 sent")).toBeInTheDocument();
    await waitFor(() => expect(queries).toHaveLength(2));
  });
});

describe("fetchDashboard", () => {
  it("falls back to UTC days when the server does not know the browser's zone", async () => {
    const queries = dashboardApi(
      () => problem(422, "invalid_timezone"),
      () => json({ ...DATA, timezone: "UTC" }),
    );

    const data = await fetchDashboard(30, "Mars/Olympus_Mons");

    expect(data.timezone).toBe("UTC");
    expect(queries.map((query) => query.get("tz"))).toEqual(["Mars/Olympus_Mons", "UTC"]);
  });
});

describe("TopSendersCard", () => {
  it("names two senders of the same name by their addresses", async () => {
    const twins = [
      { name: "Priya Raman", address: "priya@home.example", count: 5 },
      { name: "Priya Raman", address: "priya@work.example", count: 3 },
      { name: "Tom", address: "tom@example.com", count: 2 },
    ];
    dashboardApi(() => json({ ...DATA, top_senders: twins }));
    renderWithProviders(<Dashboard />);

    expect(
      await screen.findByRole("img", {
        name: "Messages per sender over the last 30 days: priya@home.example: 5; priya@work.example: 3; Tom: 2.",
      }),
    ).toBeInTheDocument();
  });
});
