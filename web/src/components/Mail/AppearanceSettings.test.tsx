import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "@/test/render";

import { AppearanceSettings } from "./AppearanceSettings";
import { parsePreferences, resetMailPreferencesCache, useMailPreferences } from "./preferences";

vi.setConfig({ testTimeout: 20_000 });

function Density() {
  const [preferences] = useMailPreferences();
  return <output aria-label="Density in use">{preferences.density}</output>;
}

beforeEach(() => {
  window.localStorage.clear();
  resetMailPreferencesCache();
});

describe("AppearanceSettings", () => {
  it("remembers density and reading pane in this browser and applies them at once", async () => {
    const user = userEvent.setup();
    renderWithProviders(
      <>
        <AppearanceSettings />
        <Density />
      </>,
    );
    expect(screen.getByRole("radio", { name: /Comfortable/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: /Beside the list/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: /Same as the system/ })).toBeInTheDocument();

    await user.click(screen.getByRole("radio", { name: /Compact/ }));
    await user.click(screen.getByRole("radio", { name: /Full width/ }));

    expect(screen.getByRole("status", { name: "Density in use" })).toHaveTextContent("compact");
    const stored = parsePreferences(window.localStorage.getItem("postwise.mail.preferences"));
    expect(stored).toMatchObject({ density: "compact", readingPane: "full" });
  });
});

describe("parsePreferences", () => {
  it("falls back to the defaults for anything unknown, and keeps the pane width in bounds", () => {
    expect(parsePreferences("not json")).toEqual({
      density: "comfortable",
      readingPane: "beside",
      listWidth: 480,
      splitInbox: false,
      inboxSection: "important",
    });
    expect(parsePreferences(JSON.stringify({ density: "tiny", listWidth: 5000 }))).toMatchObject({
      density: "comfortable",
      listWidth: 900,
    });
  });
});
