import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, json } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { DevOutboxHint } from "./DevOutboxHint";

const MAIL = {
  id: "m1",
  to: "Ada@Example.com",
  subject: "Confirm your email address",
  text: "…",
  html: "…",
  created_at: "2026-01-01T00:00:00Z",
  links: ["http://127.0.0.1:8000/verify-email/?token=abc"],
};

describe("DevOutboxHint", () => {
  it("shows the kept mail's links on a development server", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /api/dev/outbox": () => json({ items: [MAIL] }) }).fetch);
    renderWithProviders(<DevOutboxHint email="ada@example.com" />);

    expect(await screen.findByText("Development server")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: MAIL.links[0] })).toHaveAttribute("href", MAIL.links[0]);
  });

  it("renders nothing where there is no dev outbox", async () => {
    const api = fakeApi({});
    vi.stubGlobal("fetch", api.fetch);
    const { container } = renderWithProviders(<DevOutboxHint email="ada@example.com" />);
    await vi.waitFor(() => expect(api.calls).toHaveLength(1));
    expect(container).toBeEmptyDOMElement();
  });
});
