import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";

import type { PasswordStrength } from "@/api/auth";
import { fakeApi, json } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { NewPasswordField } from "./NewPasswordField";
import { StrengthMeter } from "./StrengthMeter";

const strength = (score: number, extra: Partial<PasswordStrength> = {}): PasswordStrength => ({
  score,
  acceptable: score >= 3,
  warning: "",
  suggestions: [],
  crack_time_display: "3 hours",
  ...extra,
});

describe("StrengthMeter", () => {
  it.each([
    [0, "Very weak", "Error", 20],
    [1, "Weak", "Error", 40],
    [2, "Fair", "Warning", 60],
    [3, "Strong", "Success", 80],
    [4, "Very strong", "Success", 100],
  ])("score %i reads %s, colored %s", (score, label, color, value) => {
    renderWithProviders(<StrengthMeter id="meter" strength={strength(score)} checking={false} />);

    const bar = screen.getByRole("progressbar", { name: "Password strength" });
    expect(bar).toHaveAttribute("aria-valuenow", String(value));
    expect(bar).toHaveAttribute("aria-valuetext", label);
    expect(bar.className).toContain(`MuiLinearProgress-color${color}`);
    expect(screen.getByTestId("strength-label")).toHaveTextContent(`Strength: ${label}`);
  });

  it("shows the warning and suggestions, and says when the server would refuse it", () => {
    renderWithProviders(
      <StrengthMeter
        id="meter"
        strength={strength(1, {
          warning: "This is a very common password.",
          suggestions: ["Add another word or two."],
        })}
        checking={false}
      />,
    );
    expect(screen.getByText("This is a very common password.")).toBeInTheDocument();
    expect(screen.getByRole("listitem")).toHaveTextContent("Add another word or two.");
    expect(screen.getByTestId("strength-label")).toHaveTextContent("choose a stronger password");
  });

  it("shows nothing until there is a result", () => {
    const { container } = renderWithProviders(
      <StrengthMeter id="meter" strength={undefined} checking={false} />,
    );
    expect(container.textContent).toBe("");
    expect(screen.queryByRole("progressbar")).toBeNull();
  });
});

function Harness() {
  const [value, setValue] = useState("");
  return <NewPasswordField value={value} onChange={setValue} email="ada@example.com" />;
}

describe("NewPasswordField", () => {
  it("asks the server about the password once typing pauses", async () => {
    const api = fakeApi({
      "POST /api/auth/password/strength": (call) =>
        json(strength((call.body as { password: string }).password.length > 10 ? 4 : 1)),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<Harness />);

    const input = screen.getByLabelText(/^Password/, { selector: "input" });
    await user.type(input, "correct horse battery staple");

    await waitFor(() => expect(screen.getByTestId("strength-label")).toHaveTextContent("Very strong"));
    const calls = api.callsTo("POST", "/api/auth/password/strength");
    // Typing is faster than the 250 ms debounce: one request for the whole word.
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ password: "correct horse battery staple", email: "ada@example.com" });
    expect(input.getAttribute("aria-describedby")).toContain("strength");
  });
});
