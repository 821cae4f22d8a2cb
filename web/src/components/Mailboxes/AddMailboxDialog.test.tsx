import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { AddMailboxDialog } from "./AddMailboxDialog";
import { ACCOUNT } from "./fixtures";

const GMAIL = {
  imap: { host: "imap.gmail.com", port: 993, security: "ssl" },
  smtp: { host: "smtp.gmail.com", port: 465, security: "ssl" },
  username: null,
  source: "provider",
  provider: "Gmail",
  sign_in_hint: "Gmail accepts an app password here, not your normal password.",
};

function setup(routes: Parameters<typeof fakeApi>[0]) {
  const api = fakeApi(routes);
  vi.stubGlobal("fetch", api.fetch);
  authStore.setTokens(TOKENS);
  const onAdded = vi.fn();
  const onClose = vi.fn();
  renderWithProviders(<AddMailboxDialog open onClose={onClose} onAdded={onAdded} />);
  return { api, onAdded, onClose, user: userEvent.setup() };
}

type User = ReturnType<typeof userEvent.setup>;

/** Paste rather than type: one input event per field keeps the tests fast on a busy machine. */
async function enter(user: User, field: HTMLElement, text: string) {
  await user.click(field);
  await user.paste(text);
}

async function fillIn(user: User, email: string, password = "app-pass") {
  await enter(user, screen.getByRole("textbox", { name: "Email address" }), email);
  await enter(user, screen.getByLabelText(/^Password/, { selector: "input" }), password);
}

// MUI dialogs and several round trips: generous on a machine shared with other work.
describe("AddMailboxDialog", { timeout: 20_000 }, () => {
  it("fills the servers from the provider table and leaves them to the server", async () => {
    const { api, onAdded, onClose, user } = setup({
      "POST /api/accounts/discover": () => json(GMAIL),
      "POST /api/accounts": () => json({ ...ACCOUNT, email: "ada@gmail.com" }, 201),
    });
    await fillIn(user, "ada@gmail.com");

    const toggle = screen.getByRole("button", { name: /Server settings/ });
    await waitFor(() => expect(toggle).toHaveTextContent("Gmail · imap.gmail.com:993 and smtp.gmail.com:465"));
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(screen.getByText(GMAIL.sign_in_hint)).toBeInTheDocument();
    await user.click(toggle);
    const hosts = screen.getAllByRole("textbox", { name: "Server" });
    expect(hosts.map((input) => (input as HTMLInputElement).value)).toEqual(["imap.gmail.com", "smtp.gmail.com"]);

    await user.click(screen.getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(onClose).toHaveBeenCalled();
    // Untouched servers are found again by the server, which adds the provider's advice.
    expect(api.callsTo("POST", "/api/accounts")[0]?.body).toEqual({
      email: "ada@gmail.com",
      password: "app-pass",
      display_name: "",
      sync_window_days: 90,
    });
  });

  it("opens the server settings when discovery finds nothing, and sends what is typed", async () => {
    const { api, onAdded, user } = setup({
      "POST /api/accounts/discover": () => problem(422, "discovery_failed"),
      "POST /api/accounts": () => json(ACCOUNT, 201),
    });
    await fillIn(user, "ada@corp.example");

    const toggle = screen.getByRole("button", { name: /Server settings/ });
    await waitFor(() => expect(toggle).toHaveAttribute("aria-expanded", "true"));
    expect(screen.getByText(/Couldn.t find the mail servers for corp\.example/)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Connect" }));
    expect(await screen.findByText(/Enter the incoming mail server/)).toBeInTheDocument();
    expect(api.callsTo("POST", "/api/accounts")).toHaveLength(0);

    const [imap, smtp] = screen.getAllByRole("textbox", { name: "Server" });
    await enter(user, imap as HTMLElement, "mail.corp.example");
    await enter(user, smtp as HTMLElement, "mail.corp.example");
    const [, smtpPort] = screen.getAllByRole("textbox", { name: "Port" });
    await user.clear(smtpPort as HTMLElement);
    await enter(user, smtpPort as HTMLElement, "587");
    await user.click(screen.getByRole("button", { name: "Connect" }));

    await waitFor(() => expect(onAdded).toHaveBeenCalled());
    expect(api.callsTo("POST", "/api/accounts")[0]?.body).toMatchObject({
      email: "ada@corp.example",
      imap_host: "mail.corp.example",
      imap_port: 993,
      imap_security: "ssl",
      smtp_host: "mail.corp.example",
      smtp_port: 587,
      username: null,
    });
  });

  it.each([
    ["auth_failed", "imap", "imap.gmail.com refused the user name or password. Gmail accepts an app password here"],
    ["host_unreachable", "smtp", "Couldn't reach smtp.gmail.com — check the server name and port."],
    ["timeout", "imap", "imap.gmail.com didn't answer in time"],
    ["tls_error", "imap", "Couldn't make a secure connection to imap.gmail.com"],
    ["host_not_allowed", "imap", "imap.gmail.com isn't allowed on this Postwise server — ask your administrator."],
    ["not_imap", "imap", "not as an incoming mail (IMAP) server — check the port"],
    ["account_exists", undefined, "This mailbox is already in Postwise."],
  ])("says what %s means and what to do", async (code, server, sentence) => {
    const { onAdded, user } = setup({
      "POST /api/accounts/discover": () => json(GMAIL),
      "POST /api/accounts": () =>
        problem(code === "account_exists" ? 409 : 422, code, server ? { server, detail: "raw detail" } : {}),
    });
    await fillIn(user, "ada@gmail.com");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: /Server settings/ })).toHaveTextContent("Gmail"),
    );
    await user.click(screen.getByRole("button", { name: "Connect" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(sentence);
    expect(alert).not.toHaveTextContent(code);
    expect(alert).not.toHaveTextContent("raw detail");
    expect(onAdded).not.toHaveBeenCalled();
  });

  it("asks for the address and password before trying anything", async () => {
    const { api, user } = setup({});
    await user.click(screen.getByRole("button", { name: "Connect" }));
    expect(screen.getByText("Enter the full address, like ada@example.com")).toBeInTheDocument();
    expect(screen.getByText("Enter the mailbox's password")).toBeInTheDocument();
    expect(api.calls).toHaveLength(0);
  });
});
