import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ACCOUNT } from "./fixtures";
import { IdentityDialog } from "./IdentityDialog";

configure({ asyncUtilTimeout: 5_000 });

const IDENTITY = {
  account_id: ACCOUNT.id,
  email: ACCOUNT.email,
  sender_name: "Ada Lovelace",
  send_as: [{ name: "Ada", address: "ada@lovelace.example" }],
  signature_text: "Ada\n-- \nAnalytical Engines Ltd",
  signature_html: "",
};

function setup(put: Parameters<typeof fakeApi>[0][string]) {
  const api = fakeApi({
    "GET /api/accounts/acc-1/identity": () => json(IDENTITY),
    "PUT /api/accounts/acc-1/identity": put,
  });
  vi.stubGlobal("fetch", api.fetch);
  authStore.setTokens(TOKENS);
  const onSaved = vi.fn();
  const onClose = vi.fn();
  renderWithProviders(<IdentityDialog account={ACCOUNT} onClose={onClose} onSaved={onSaved} />);
  return { api, onSaved, onClose, user: userEvent.setup() };
}

const echo = (call: { body: unknown }) => json({ ...IDENTITY, ...(call.body as object) });

describe("IdentityDialog", { timeout: 20_000 }, () => {
  it("shows the saved identity and saves the whole of it, without empty rows", async () => {
    const { api, onSaved, onClose, user } = setup(echo);
    const name = await screen.findByRole("textbox", { name: "Your name" });
    expect(name).toHaveValue("Ada Lovelace");
    expect(screen.getByRole("textbox", { name: "Email address 1" })).toHaveValue("ada@lovelace.example");
    expect(screen.getByRole("textbox", { name: "Signature" })).toHaveValue("Ada\n-- \nAnalytical Engines Ltd");

    await user.clear(name);
    await user.type(name, "  Ada King ");
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.type(screen.getByRole("textbox", { name: "Email address 2" }), " countess@lovelace.example ");
    await user.type(screen.getByRole("textbox", { name: "Name for address 2" }), "Countess");
    // A row added and left empty is not an address.
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.click(screen.getByRole("button", { name: "Add a formatted (HTML) signature" }));
    await user.type(screen.getByRole("textbox", { name: "Formatted signature (HTML)" }), "<b>Ada</b>");
    await user.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(api.callsTo("PUT", "/api/accounts/acc-1/identity")[0]?.body).toEqual({
      sender_name: "Ada King",
      send_as: [
        { name: "Ada", address: "ada@lovelace.example" },
        { name: "Countess", address: "countess@lovelace.example" },
      ],
      signature_text: "Ada\n-- \nAnalytical Engines Ltd",
      signature_html: "<b>Ada</b>",
    });
    expect(onSaved.mock.calls[0]?.[0]).toMatchObject({ id: ACCOUNT.id });
    expect(onClose).toHaveBeenCalled();
  });

  it("removes a send-as address", async () => {
    const { api, user } = setup(echo);
    await user.click(await screen.findByRole("button", { name: "Remove ada@lovelace.example" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(api.callsTo("PUT", "/api/accounts/acc-1/identity")).toHaveLength(1));
    expect(api.callsTo("PUT", "/api/accounts/acc-1/identity")[0]?.body).toMatchObject({ send_as: [] });
  });

  it("checks the addresses before saving and says what is wrong beside each", async () => {
    const { api, user } = setup(echo);
    await screen.findByRole("textbox", { name: "Your name" });
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.type(screen.getByRole("textbox", { name: "Email address 2" }), "not an address");
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.type(screen.getByRole("textbox", { name: "Email address 3" }), "ADA@lovelace.example");
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.type(screen.getByRole("textbox", { name: "Email address 4" }), ACCOUNT.email);
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.type(screen.getByRole("textbox", { name: "Name for address 5" }), "Nobody");
    await user.click(screen.getByRole("button", { name: "Save" }));

    const describedBy = (label: string) => {
      const input = screen.getByRole("textbox", { name: label });
      expect(input).toHaveAttribute("aria-invalid", "true");
      return document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent;
    };
    expect(describedBy("Email address 2")).toBe("Enter an address like name@example.com");
    expect(describedBy("Email address 3")).toBe("This address is already in the list");
    expect(describedBy("Email address 4")).toBe("This is the mailbox’s own address");
    expect(describedBy("Email address 5")).toBe("Enter the address");
    expect(screen.getByRole("textbox", { name: "Email address 1" })).not.toHaveAttribute("aria-invalid", "true");
    expect(api.callsTo("PUT", "/api/accounts/acc-1/identity")).toHaveLength(0);
  });

  it("puts the server's field errors beside the field they name", async () => {
    const { onSaved, user } = setup(() =>
      problem(422, "validation_error", {
        detail: "The request has invalid fields.",
        errors: [{ field: "send_as[1].address", in: "body", message: "Value error, not a valid email address: the part after the @ is no domain name", type: "value_error" }],
      }),
    );
    await screen.findByRole("textbox", { name: "Your name" });
    // An empty row before the bad one: the server's index counts only the rows it was sent.
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.click(screen.getByRole("button", { name: "Add an address" }));
    await user.type(screen.getByRole("textbox", { name: "Email address 3" }), "ada@192.0.2.1");
    await user.click(screen.getByRole("button", { name: "Save" }));

    const input = await screen.findByRole("textbox", { name: "Email address 3" });
    await waitFor(() => expect(input).toHaveAttribute("aria-invalid", "true"));
    const group = input.closest(".MuiFormControl-root") as HTMLElement;
    expect(within(group).getByText("Not a valid email address: the part after the @ is no domain name")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
    expect(onSaved).not.toHaveBeenCalled();
  });

  it("says in words when saving fails for another reason", async () => {
    const { user } = setup(() => problem(503, "database_unavailable", { detail: "Try again in a moment." }));
    await screen.findByRole("textbox", { name: "Your name" });
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Couldn’t save. Try again in a moment.");
  });
});
