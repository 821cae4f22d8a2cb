import { configure, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { RecipientInput } from "./RecipientInput";
import type { RecipientChip } from "./recipients";

configure({ asyncUtilTimeout: 3_000 });

/** What the field last handed its owner. */
const seen: { chips: RecipientChip[] } = { chips: [] };

function Field({ initial = [] }: { initial?: RecipientChip[] }) {
  const [chips, setChips] = useState(initial);
  const onChange = (next: RecipientChip[]) => {
    seen.chips = next;
    setChips(next);
  };
  return (
    <>
      <RecipientInput label="To" chips={chips} onChange={onChange} />
      <input aria-label="Subject" />
    </>
  );
}

const CONTACTS = [
  { name: "Ana Lima", address: "ana@example.com", sent_count: 9, received_count: 3, last_seen_at: "2026-12-01T10:00:00Z" },
  { name: "Anabel Ruiz", address: "anabel@example.org", sent_count: 1, received_count: 7, last_seen_at: "2026-11-01T10:00:00Z" },
];

function serve() {
  const api = fakeApi({ "GET /api/contacts": () => json({ items: CONTACTS }) });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

const input = () => screen.getByRole("combobox", { name: "To" });
const chipNames = () => seen.chips.map((chip) => `${chip.address}${chip.valid ? "" : " (invalid)"}`);

beforeEach(() => {
  authStore.setTokens(TOKENS);
  seen.chips = [];
});

describe("RecipientInput", () => {
  it("commits on comma, Enter and Tab; Backspace takes the last chip back", async () => {
    serve();
    const user = userEvent.setup();
    renderWithProviders(<Field />);
    await user.type(input(), "bo@x.org,cy@y.net{Enter}dee@z.io");
    await user.tab();
    expect(chipNames()).toEqual(["bo@x.org", "cy@y.net", "dee@z.io"]);
    expect(screen.getByLabelText("Subject")).toHaveFocus();

    await user.click(input());
    await user.keyboard("{Backspace}");
    expect(chipNames()).toEqual(["bo@x.org", "cy@y.net"]);
  });

  it("turns a paste of several into chips, and marks what is no address in red with a reason", async () => {
    serve();
    const user = userEvent.setup();
    renderWithProviders(<Field />);
    await user.click(input());
    await user.paste('"Lima, Ana" <ana@example.com>; bo@x.org, nonsense');
    expect(chipNames()).toEqual(["ana@example.com", "bo@x.org", "nonsense (invalid)"]);
    const bad = screen.getByRole("button", { name: "nonsense: not a valid email address" });
    await user.hover(bad);
    expect(await screen.findByRole("tooltip")).toHaveTextContent("not a valid email address");

    // Clicking the red chip puts it back in the field to be corrected.
    await user.click(bad);
    expect(input()).toHaveValue("nonsense");
    expect(chipNames()).toEqual(["ana@example.com", "bo@x.org"]);
  });

  it("suggests people as the user types (debounced), chosen with the keyboard", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderWithProviders(<Field />);
    await user.type(input(), "an");
    const list = await screen.findByRole("listbox", { name: "Suggestions for To" });
    // One request for the pause, not one per key.
    expect(api.callsTo("GET", "/api/contacts")).toHaveLength(1);
    const request = api.fetch.mock.calls[0]![0] as Request;
    expect(new URL(request.url).searchParams.get("q")).toBe("an");
    const options = within(list).getAllByRole("option");
    expect(options.map((option) => option.textContent)).toEqual(["Ana Limaana@example.com", "Anabel Ruizanabel@example.org"]);
    expect(options[0]).toHaveAttribute("aria-selected", "true");

    await user.keyboard("{ArrowDown}");
    expect(input()).toHaveAttribute("aria-activedescendant", options[1]!.id);
    await user.keyboard("{Enter}");
    expect(seen.chips).toEqual([{ name: "Anabel Ruiz", address: "anabel@example.org", valid: true }]);
    expect(input()).toHaveValue("");
    await waitFor(() => expect(screen.queryByRole("listbox")).not.toBeInTheDocument());
  });

  it("lets Escape close the suggestions without leaving the field", async () => {
    serve();
    const user = userEvent.setup();
    const onOuterKey = vi.fn();
    renderWithProviders(
      <div onKeyDown={onOuterKey}>
        <Field />
      </div>,
    );
    await user.type(input(), "an");
    await screen.findByRole("listbox");
    fireEvent.keyDown(input(), { key: "Escape" });
    await waitFor(() => expect(screen.queryByRole("listbox")).not.toBeInTheDocument());
    // The compose window (outside) never saw it, so it stays open.
    expect(onOuterKey).not.toHaveBeenCalledWith(expect.objectContaining({ key: "Escape" }));
  });
});
