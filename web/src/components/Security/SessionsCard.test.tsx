import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, noContent, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { SessionsCard } from "./SessionsCard";

const NOW = new Date().toISOString();
const SESSIONS = [
  {
    id: "s-this",
    current: true,
    created_at: NOW,
    last_seen_at: NOW,
    ip: "127.0.0.1",
    user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36",
  },
  { id: "s-other", current: false, created_at: NOW, last_seen_at: NOW, ip: "10.0.0.7", user_agent: "node" },
];

describe("SessionsCard", () => {
  it("marks this device and signs another session out", async () => {
    let sessions = SESSIONS;
    const api = fakeApi({
      "GET /api/auth/sessions": () => json({ items: sessions }),
      "DELETE /api/auth/sessions/s-other": () => {
        sessions = sessions.filter((session) => session.id !== "s-other");
        return noContent();
      },
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<SessionsCard />);

    const table = await screen.findByRole("list", { name: "Signed-in devices" });
    const rows = within(table).getAllByTestId("session-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0] as HTMLElement).getByText("Chrome on Linux")).toBeInTheDocument();
    expect(within(rows[0] as HTMLElement).getByText("This device")).toBeInTheDocument();
    expect(within(rows[0] as HTMLElement).queryByRole("button")).toBeNull();

    await user.click(within(rows[1] as HTMLElement).getByRole("button", { name: "Sign out node (10.0.0.7)" }));

    await waitFor(() => expect(within(table).getAllByTestId("session-row")).toHaveLength(1));
    expect(api.callsTo("DELETE", "/api/auth/sessions/s-other")).toHaveLength(1);
  });
});
