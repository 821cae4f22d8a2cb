import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { TotpSetupForm } from "./TotpSetupForm";

const HOSTILE_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect width="1" height="1"/></svg>';

const SETUP = {
  secret: "JBSWY3DPEHPK3PXP",
  otpauth_uri: "otpauth://totp/Postwise:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Postwise",
  qr_svg: HOSTILE_SVG,
};

describe("TotpSetupForm", () => {
  it("renders the QR code as an image, never as markup", () => {
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    renderWithProviders(<TotpSetupForm setup={SETUP} onEnabled={vi.fn()} onCancel={vi.fn()} />);

    const image = screen.getByRole("img", { name: /QR code/ });
    expect(image.getAttribute("src")).toBe(`data:image/svg+xml;utf8,${encodeURIComponent(HOSTILE_SVG)}`);
    expect(document.querySelector("script")).toBeNull();
    expect(document.querySelector("svg [onload], svg[onload]")).toBeNull();
    expect(screen.getByTestId("totp-secret")).toHaveTextContent("JBSW Y3DP EHPK 3PXP");
    expect(screen.getByRole("link", { name: "Open in authenticator app" })).toHaveAttribute(
      "href",
      SETUP.otpauth_uri,
    );
  });

  it("confirms with a code and hands over the recovery codes", async () => {
    const codes = Array.from({ length: 10 }, (_, i) => `code-${i}`);
    const api = fakeApi({
      "POST /api/auth/mfa/totp/enable": [() => problem(400, "invalid_mfa_code"), () => json({ recovery_codes: codes })],
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    const onEnabled = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<TotpSetupForm setup={SETUP} onEnabled={onEnabled} onCancel={vi.fn()} />);

    const input = screen.getByRole("textbox", { name: /authentication code/i });
    await user.type(input, "111 111");
    await user.click(screen.getByRole("button", { name: "Turn on" }));
    expect(await screen.findByText(/That code is not valid/)).toBeInTheDocument();

    await user.clear(input);
    await user.type(input, "222222");
    await user.click(screen.getByRole("button", { name: "Turn on" }));

    await waitFor(() => expect(onEnabled).toHaveBeenCalledWith(codes));
    expect(api.callsTo("POST", "/api/auth/mfa/totp/enable").map((call) => call.body)).toEqual([
      { code: "111111" },
      { code: "222222" },
    ]);
    expect(api.calls[0]?.headers.get("Authorization")).toBe("Bearer access-1");
  });
});
