import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { ACCOUNT } from "@/components/Mailboxes/fixtures";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { FirstRun } from "./FirstRun";

const push = vi.hoisted(() => vi.fn());
vi.mock("next/navigation", () => ({ useRouter: () => ({ push }) }));

beforeEach(() => push.mockClear());

const DEMO = { ...ACCOUNT, id: "demo-1", kind: "local", is_demo: true, email: "demo.user@example.com" };

describe("FirstRun", { timeout: 20_000 }, () => {
  it("offers adding a mailbox as a link to the form", () => {
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    renderWithProviders(<FirstRun />);

    expect(screen.getByRole("heading", { name: "Welcome to Postwise" })).toBeInTheDocument();
    // next/link adds the trailing slash only inside a Next build (trailingSlash).
    expect(screen.getByRole("link", { name: "Add a mailbox" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/settings\/mailboxes\/?\?add=1$/),
    );
  });

  it("loads the demo mailbox and goes to the inbox", async () => {
    const api = fakeApi({ "POST /api/accounts/demo": () => json(DEMO, 201) });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<FirstRun />);

    await user.click(screen.getByRole("button", { name: "Load the demo mailbox" }));

    await waitFor(() => expect(push).toHaveBeenCalledWith("/"));
    expect(api.callsTo("POST", "/api/accounts/demo")).toHaveLength(1);
  });

  it("says why the demo could not be added", async () => {
    vi.stubGlobal("fetch", fakeApi({ "POST /api/accounts/demo": () => problem(409, "account_not_local") }).fetch);
    authStore.setTokens(TOKENS);
    const user = userEvent.setup();
    renderWithProviders(<FirstRun />);

    await user.click(screen.getByRole("button", { name: "Load the demo mailbox" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("already uses the demo address");
    expect(push).not.toHaveBeenCalled();
  });
});
