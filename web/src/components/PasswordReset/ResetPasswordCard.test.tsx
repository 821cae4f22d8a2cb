import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ResetPasswordCard } from "./ResetPasswordCard";

const navigation = vi.hoisted(() => ({
  replace: vi.fn(),
  push: vi.fn(),
  search: "",
}));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: navigation.replace, push: navigation.push }),
  useSearchParams: () => new URLSearchParams(navigation.search),
}));

const STRENGTH = { score: 4, acceptable: true, warning: "", suggestions: [], crack_time_display: "centuries" };
const PASSWORD = "lilac-93";

beforeEach(() => {
  navigation.replace.mockReset();
  navigation.push.mockReset();
  navigation.search = "token=rst_Abc-123.xyz%2B%2F";
  authStore.setSignedOut("anonymous");
});

async function choosePassword(
  user: ReturnType<typeof userEvent.setup>,
  password = PASSWORD,
  confirm = password,
) {
  await user.type(screen.getByLabelText(/^New password/), password);
  await user.type(screen.getByLabelText(/^Confirm new password/), confirm);
  await user.click(screen.getByRole("button", { name: "Set new password" }));
}

describe("ResetPasswordCard", () => {
  it("asks for a new link when the URL carries no token", () => {
    navigation.search = "";
    const api = fakeApi({});
    vi.stubGlobal("fetch", api.fetch);
    renderWithProviders(<ResetPasswordCard />);

    expect(screen.getByRole("alert")).toHaveTextContent("This link has no reset token.");
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/forgot-password\/?$/),
    );
    expect(screen.queryByLabelText(/^New password/)).toBeNull();
    expect(api.calls).toHaveLength(0);
  });

  it("posts the URL's token with the new password, then sends the user to sign in", async () => {
    let answer: (response: Response) => void = () => {};
    const api = fakeApi({
      "POST /api/auth/password/strength": () => json(STRENGTH),
      "POST /api/auth/password/reset": () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ResetPasswordCard />);

    expect(screen.getByText("Choose a new password")).toBeInTheDocument();
    expect(screen.getByLabelText(/^New password/)).toHaveAttribute("autocomplete", "new-password");
    expect(screen.getByLabelText(/^Confirm new password/)).toHaveAttribute("autocomplete", "new-password");
    await choosePassword(user);

    const button = screen.getByRole("button", { name: "Set new password" });
    await waitFor(() => expect(button).toBeDisabled());
    expect(within(button).getByRole("progressbar")).toBeInTheDocument();
    answer(json({ status: "reset" }));

    // No automatic sign-in: back to the sign-in page, which says the password changed.
    await waitFor(() => expect(navigation.replace).toHaveBeenCalledWith("/signin/?reset=1"));
    expect(navigation.replace).toHaveBeenCalledTimes(1);
    expect(navigation.push).not.toHaveBeenCalled();
    expect(authStore.accessToken()).toBeNull();
    expect(authStore.getState()).toEqual({ status: "signed-out", reason: "anonymous" });
    // The button stays busy until the page changes, so the used token is not posted again.
    expect(button).toBeDisabled();

    const resets = api.callsTo("POST", "/api/auth/password/reset");
    expect(resets).toHaveLength(1);
    expect(resets[0]?.body).toEqual({ token: "rst_Abc-123.xyz+/", new_password: PASSWORD });
    expect(resets[0]?.headers.get("Authorization")).toBeNull();
    expect(api.calls.map((call) => call.path)).not.toContain("/api/auth/login");
    expect(api.calls.map((call) => call.path)).not.toContain("/api/auth/refresh");
  });

  it("does not send mismatched passwords", async () => {
    const api = fakeApi({ "POST /api/auth/password/strength": () => json(STRENGTH) });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ResetPasswordCard />);

    await choosePassword(user, PASSWORD, "lilac-39");

    const confirm = screen.getByLabelText(/^Confirm new password/);
    expect(confirm).toHaveAttribute("aria-invalid", "true");
    expect(confirm).toHaveAccessibleDescription("The passwords do not match.");
    expect(api.callsTo("POST", "/api/auth/password/reset")).toHaveLength(0);
    expect(navigation.replace).not.toHaveBeenCalled();
  });

  it("explains a used or expired link and offers a new one", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/strength": () => json(STRENGTH),
        "POST /api/auth/password/reset": () =>
          problem(400, "invalid_token", { detail: "The link or token is invalid or has expired." }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<ResetPasswordCard />);

    await choosePassword(user);

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("This reset link is invalid, already used or expired. Ask for a new one.");
    expect(within(alert).getByRole("link", { name: "Send a new link" })).toHaveAttribute(
      "href",
      expect.stringMatching(/^\/forgot-password\/?$/),
    );
    expect(screen.getByLabelText(/^New password/)).toHaveValue(PASSWORD);
    expect(navigation.replace).not.toHaveBeenCalled();
    expect(authStore.accessToken()).toBeNull();
  });

  it("shows a weak_password answer at the new-password field", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/strength": () => json(STRENGTH),
        "POST /api/auth/password/reset": () =>
          problem(422, "weak_password", {
            detail: "Choose a stronger password.",
            errors: [
              {
                field: "new_password",
                in: "body",
                message: "This is similar to a commonly used password.",
                type: "weak_password",
              },
            ],
            feedback: { warning: "This is similar to a commonly used password.", suggestions: ["Add another word or two."] },
            score: 1,
          }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<ResetPasswordCard />);

    await choosePassword(user);

    const password = screen.getByLabelText(/^New password/);
    await waitFor(() => expect(password).toHaveAttribute("aria-invalid", "true"));
    expect(password).toHaveAccessibleDescription(/commonly used password/);
    const note = screen.getByRole("note");
    expect(note).toHaveTextContent("This is similar to a commonly used password.");
    expect(note).toHaveTextContent("Add another word or two.");
    // Shown at the field, not repeated in a general alert.
    expect(screen.queryByRole("alert")).toBeNull();
    expect(navigation.replace).not.toHaveBeenCalled();
  });

  it("shows a problem's detail in place when it names no field", async () => {
    vi.stubGlobal(
      "fetch",
      fakeApi({
        "POST /api/auth/password/strength": () => json(STRENGTH),
        "POST /api/auth/password/reset": () =>
          problem(422, "weak_password", {
            detail: "Choose a stronger password.",
            feedback: { warning: "", suggestions: ["Avoid dates and years."] },
          }),
      }).fetch,
    );
    const user = userEvent.setup();
    renderWithProviders(<ResetPasswordCard />);

    await choosePassword(user);

    expect(await screen.findByRole("alert")).toHaveTextContent("Choose a stronger password.");
    expect(screen.getByRole("note")).toHaveTextContent("Avoid dates and years.");
    expect(screen.getByRole("button", { name: "Set new password" })).toBeEnabled();
    expect(navigation.replace).not.toHaveBeenCalled();
  });

  it("rates the new password while typing", async () => {
    const api = fakeApi({
      "POST /api/auth/password/strength": (call) =>
        json(
          (call.body as { password: string }).password === "password"
            ? { score: 0, acceptable: false, warning: "This is a top-10 common password.", suggestions: [], crack_time_display: "instantly" }
            : STRENGTH,
        ),
    });
    vi.stubGlobal("fetch", api.fetch);
    const user = userEvent.setup();
    renderWithProviders(<ResetPasswordCard />);

    const input = screen.getByLabelText(/^New password/);
    await user.type(input, "password");
    await waitFor(() =>
      expect(screen.getByTestId("strength-label")).toHaveTextContent(
        "Strength: Very weak — choose a stronger password",
      ),
    );
    expect(screen.getByText("This is a top-10 common password.")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Password strength" })).toHaveAttribute(
      "aria-valuetext",
      "Very weak",
    );

    await user.clear(input);
    await user.type(input, PASSWORD);
    await waitFor(() => expect(screen.getByTestId("strength-label")).toHaveTextContent("Strength: Very strong"));
    expect(api.callsTo("POST", "/api/auth/password/strength").at(-1)?.body).toEqual({ password: PASSWORD });
    // Rating is not submitting.
    expect(api.callsTo("POST", "/api/auth/password/reset")).toHaveLength(0);
  });
});
