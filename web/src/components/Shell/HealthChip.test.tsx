import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { jsonFetch, renderWithProviders } from "@/test/render";

import { HealthChip } from "./HealthChip";

describe("HealthChip", () => {
  it("shows nothing while the server is healthy", async () => {
    const fetchMock = vi.fn(jsonFetch({ status: "ok" }));
    vi.stubGlobal("fetch", fetchMock);
    const { container } = renderWithProviders(<HealthChip />);

    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(new URL(request.url).pathname).toBe("/healthz");
    // Give the answer time to land, then check that nothing was drawn.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(container).toBeEmptyDOMElement();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("says the server can't be reached when the request fails", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    renderWithProviders(<HealthChip />);

    expect(await screen.findByRole("status")).toHaveTextContent("Can't reach Postwise — retrying");
  });

  it("says some features are unavailable when the server answers with trouble", async () => {
    vi.stubGlobal("fetch", jsonFetch({ title: "Service Unavailable" }, 503));
    renderWithProviders(<HealthChip />);

    const chip = await screen.findByRole("status");
    expect(chip).toHaveTextContent("Some features are unavailable");
    expect(chip).not.toHaveTextContent(/API|503/);
  });
});
