import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AppNotification } from "@/api/notifications";
import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { NotificationBell } from "./NotificationBell";

const { push } = vi.hoisted(() => ({ push: vi.fn() }));
vi.mock("next/navigation", () => ({ useRouter: () => ({ push }) }));

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function notification(id: string, fields: Partial<AppNotification> = {}): AppNotification {
  return {
    id,
    kind: "import_finished",
    title: "Import finished",
    body: "30 messages imported into imported@postwise.local.",
    link: "/?account=a1",
    data: {},
    created_at: minutesAgo(5),
    read_at: null,
    ...fields,
  };
}

const ITEMS = [
  notification("n1", {
    kind: "mailbox_error",
    title: "ada@example.com stopped syncing",
    body: "The mail server refused the password.",
    link: "/settings/mailboxes/",
    created_at: minutesAgo(2),
  }),
  notification("n2"),
  notification("n3", { kind: "new_sign_in", title: "New sign-in to your account", read_at: minutesAgo(60), created_at: minutesAgo(120) }),
];

function page(items: AppNotification[]) {
  return { items, unread_count: items.filter((item) => item.read_at === null).length, next_cursor: null };
}

beforeEach(() => {
  push.mockReset();
  authStore.setTokens(TOKENS);
});

async function openBell(name: string | RegExp) {
  const user = userEvent.setup();
  const bell = await screen.findByRole("button", { name });
  await user.click(bell);
  return { user, dialog: await screen.findByRole("dialog", { name: "Notifications" }) };
}

// Generous: the machine running the suite may be busy, and each test opens a popover.
describe("NotificationBell", { timeout: 15_000 }, () => {
  it("shows the unread count and lists titles, bodies, times and unread marks", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /api/notifications": () => json(page(ITEMS)) }).fetch);
    renderWithProviders(<NotificationBell />);

    const { dialog } = await openBell("Notifications, 2 unread");
    const rows = within(dialog).getAllByTestId("notification-row");
    expect(rows).toHaveLength(3);
    const first = rows[0] as HTMLElement;
    expect(first).toHaveTextContent("Unread: ada@example.com stopped syncing");
    expect(first).toHaveTextContent("The mail server refused the password.");
    expect(first).toHaveTextContent("2 minutes ago");
    expect(within(rows[2] as HTMLElement).queryByText(/Unread:/)).toBeNull();
    expect(within(dialog).getAllByTestId("unread-dot")).toHaveLength(2);
  });

  it("marks one read at once and goes where it points", async () => {
    let items = ITEMS;
    const api = fakeApi({
      "GET /api/notifications": () => json(page(items)),
      "POST /api/notifications/read": () => {
        items = items.map((item) => (item.id === "n1" ? { ...item, read_at: new Date().toISOString() } : item));
        return json({ updated: 1, unread_count: 1 });
      },
    });
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<NotificationBell />);

    const { user, dialog } = await openBell("Notifications, 2 unread");
    await user.click(within(dialog).getAllByTestId("notification-row")[0] as HTMLElement);

    expect(push).toHaveBeenCalledWith("/settings/mailboxes/");
    expect(await screen.findByRole("button", { name: "Notifications, 1 unread" })).toBeInTheDocument();
    await waitFor(() => expect(api.callsTo("POST", "/api/notifications/read")).toHaveLength(1));
    expect(api.callsTo("POST", "/api/notifications/read")[0]?.body).toEqual({ ids: ["n1"], all: false });
  });

  it("never follows a link out of the app", async () => {
    const outside = notification("n9", { link: "//evil.example/phish" });
    const api = fakeApi({
      "GET /api/notifications": () => json(page([outside])),
      "POST /api/notifications/read": () => json({ updated: 1, unread_count: 0 }),
    });
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<NotificationBell />);

    const { user, dialog } = await openBell("Notifications, 1 unread");
    await user.click(within(dialog).getByTestId("notification-row"));
    await waitFor(() => expect(api.callsTo("POST", "/api/notifications/read")).toHaveLength(1));
    expect(push).not.toHaveBeenCalled();
  });

  it("marks everything read, and puts the count back when that fails", async () => {
    const api = fakeApi({
      "GET /api/notifications": () => json(page(ITEMS)),
      "POST /api/notifications/read": [
        () => problem(503, "database_unavailable", { detail: "The database is not reachable." }),
        () => json({ updated: 2, unread_count: 0 }),
      ],
    });
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<NotificationBell />);

    const { user, dialog } = await openBell("Notifications, 2 unread");
    await user.click(within(dialog).getByRole("button", { name: "Mark all as read" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("The database is not reachable.");
    expect(within(dialog).getAllByTestId("unread-dot")).toHaveLength(2);

    await user.click(within(dialog).getByRole("button", { name: "Mark all as read" }));
    await waitFor(() => expect(within(dialog).queryAllByTestId("unread-dot")).toHaveLength(0));
    expect(api.callsTo("POST", "/api/notifications/read")[1]?.body).toEqual({ all: true });
    // The page behind the open popover is hidden from assistive technology.
    expect(screen.getByRole("button", { name: "Notifications", hidden: true })).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Mark all as read" })).toBeDisabled();
  });

  it("says so when there is nothing", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /api/notifications": () => json(page([])) }).fetch);
    renderWithProviders(<NotificationBell />);

    await waitFor(() => expect(screen.getByRole("button", { name: "Notifications" })).toBeInTheDocument());
    const { dialog } = await openBell("Notifications");
    expect(await within(dialog).findByText("You're all caught up")).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Mark all as read" })).toBeDisabled();
    expect(within(dialog).getByRole("link", { name: "Notification settings" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/settings\/notifications\/?$/),
    );
  });

  it("offers to try again when the list cannot load", async () => {
    const api = fakeApi({
      "GET /api/notifications": [() => problem(500, "internal_error"), () => json(page(ITEMS))],
    });
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<NotificationBell />);

    const { user, dialog } = await openBell("Notifications");
    await user.click(await within(dialog).findByRole("button", { name: "Try again" }));
    expect(await within(dialog).findAllByTestId("notification-row")).toHaveLength(3);
  });
});
