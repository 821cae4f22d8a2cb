import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { renderWithProviders } from "@/test/render";

import { SignInCard } from "./SignInCard";

describe("SignInCard", () => {
  it("renders the product name, email and password fields", () => {
    renderWithProviders(<SignInCard />);

    expect(screen.getByRole("heading", { name: "Postwise" })).toBeInTheDocument();
    const email = screen.getByLabelText(/email/i);
    expect(email).toHaveAttribute("type", "email");
    expect(email).toHaveAttribute("autocomplete", "email");
    const password = screen.getByLabelText(/password/i);
    expect(password).toHaveAttribute("type", "password");
    expect(password).toHaveAttribute("autocomplete", "current-password");
  });

  it("keeps sign-in disabled and explains why", () => {
    renderWithProviders(<SignInCard />);

    const button = screen.getByRole("button", { name: "Sign in" });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription(/sign-in arrives with accounts/i);
  });
});
