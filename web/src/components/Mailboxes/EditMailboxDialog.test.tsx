import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { EditMailboxDialog } from "./EditMailboxDialog";
import { ACCOUNT } from "./fixtures";

function setup(routes: Parameters<typeof fakeApi>[0], focusServers = false) {
  const api = fakeApi(routes);
  vi.stubGlobal("fetch", api.fetch);
  authStore.setTokens(TOKENS);
  const onSaved = vi.fn();
  renderWithProviders(
    <EditMailboxDialog account={ACCOUNT} focusServers={focusServers} onClose={vi.fn()} onSaved={onSaved} />,
  );
  return { api, onSaved, user: userEvent.setup() };
}

describe("EditMailboxDialog", { timeout: 20_000 }, () => {
  it("sends only what changed", async () => {
    const { api, onSaved, user } = setup({
      "PATCH /api/accounts/acc-1": (call) => json({ ...ACCOUNT, ...(call.body as object) }),
    });
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
    await user.click(screen.getByRole("textbox", { name: "Name" }));
    await user.paste("Work");
    await user.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(api.callsTo("PATCH", "/api/accounts/acc-1")[0]?.body).toEqual({ display_name: "Work" });
  });

  it("tests a server change and names the problem when it fails", async () => {
    const { api, onSaved, user } = setup(
      { "PATCH /api/accounts/acc-1": () => problem(422, "tls_error", { server: "imap" }) },
      true,
    );
    const imapSecurity = screen.getAllByRole("combobox", { name: "Security" })[0];
    await user.click(imapSecurity as HTMLElement);
    await user.click(await screen.findByRole("option", { name: "STARTTLS" }));
    // The port followed the security: 993 belongs to SSL/TLS, STARTTLS uses 143.
    expect(screen.getAllByRole("textbox", { name: "Port" })[0]).toHaveValue("143");
    await user.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Couldn't make a secure connection to imap.example.com",
    );
    expect(onSaved).not.toHaveBeenCalled();
    expect(api.callsTo("PATCH", "/api/accounts/acc-1")[0]?.body).toMatchObject({
      imap_port: 143,
      imap_security: "starttls",
      username: "ada@example.com",
    });
  });
});
