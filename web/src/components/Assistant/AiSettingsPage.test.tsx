import { configure, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AiSettings, AiUsage } from "@/api/ai";
import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { AiSettingsPage } from "./AiSettingsPage";

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const LOCAL: AiSettings = {
  provider: "local",
  model: "postwise-local",
  base_url: null,
  remote: false,
  has_own_key: false,
  daily_budget_usd: 1,
  redact: false,
  important_share: 0.2,
  triage: { total: 12_000, done: 3_000 },
};

const REMOTE: AiSettings = {
  ...LOCAL,
  provider: "openai",
  model: "gpt-4o-mini",
  base_url: "https://api.openai.com/v1",
  remote: true,
  has_own_key: true,
  daily_budget_usd: 2.5,
  redact: true,
  triage: { total: 12_000, done: 12_000 },
};

const USAGE: AiUsage = {
  items: [
    { day: "2026-12-07", provider: "openai", model: "gpt-4o-mini", calls: 120, cache_hits: 30, prompt_tokens: 40_000, completion_tokens: 2_000, cost_usd: 0.0072 },
    { day: "2026-12-06", provider: "local", model: "postwise-local", calls: 900, cache_hits: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
  ],
  today_cost_usd: 0.0072,
  daily_budget_usd: 2.5,
};

type Routes = Parameters<typeof fakeApi>[0];

function serve(settings: AiSettings, routes: Routes = {}) {
  const api = fakeApi({
    "GET /api/ai/settings": () => json(settings),
    "GET /api/ai/usage": () => json(USAGE),
    ...routes,
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

beforeEach(() => authStore.setTokens(TOKENS));

describe("Settings → AI", () => {
  it("says nothing leaves the machine on the local provider, and how far sorting has got", async () => {
    serve(LOCAL);
    const { container } = renderWithProviders(<AiSettingsPage />);
    expect(await screen.findByTestId("ai-privacy")).toHaveTextContent(/^Nothing leaves this machine/);
    expect(screen.getByRole("radio", { name: /On this machine/ })).toBeChecked();
    expect(screen.queryByRole("textbox", { name: "Model" })).not.toBeInTheDocument();
    expect(screen.getByText("Sorting the mail already here: 3,000 of 12,000 messages.")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Messages sorted by the assistant" })).toHaveAttribute("aria-valuenow", "25");
    expect(screen.getByRole("slider")).toHaveAccessibleName("Share of the inbox in Important: 20 %");
    await screen.findByRole("table");
    const results = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
    expect(results.violations.map((violation) => [violation.id, violation.nodes.map((node) => node.html)])).toEqual([]);
  });

  it("names the remote service that sees the mail, and lists usage with totals", async () => {
    serve(REMOTE);
    renderWithProviders(<AiSettingsPage />);
    expect(await screen.findByTestId("ai-privacy")).toHaveTextContent(
      "Your mail is sent to gpt-4o-mini (api.openai.com) to be sorted, summarised and answered. Email addresses, phone and card numbers are replaced before it leaves.",
    );
    const table = await screen.findByRole("table", { name: "Assistant usage over the last 30 days" });
    const rows = within(table).getAllByRole("row");
    expect(rows).toHaveLength(4);
    expect(rows[1]).toHaveTextContent(/gpt-4o-mini.*120.*30.*42,000.*\$0\.0072/);
    expect(rows[2]).toHaveTextContent(/This machine.*900/);
    expect(rows[3]).toHaveTextContent(/30 days.*1,020.*30.*42,000.*\$0\.0072/);
    expect(screen.getByText("Today: $0.0072 of your $2.50 daily budget.")).toBeInTheDocument();
    expect(screen.getByText("All 12,000 messages are sorted.")).toBeInTheDocument();
  });

  it("saves only what changed, never shows the key again, and tests the saved settings", async () => {
    const api = serve(LOCAL, {
      "PATCH /api/ai/settings": () => json({ ...REMOTE, model: "llama3.1", redact: false, daily_budget_usd: 1 }),
      "POST /api/ai/settings/test": () => json({ ok: false, provider: "openai", model: "llama3.1", latency_ms: 812.4, error_code: "unauthorized" }),
    });
    const user = userEvent.setup();
    renderWithProviders(<AiSettingsPage />);
    await user.click(await screen.findByRole("radio", { name: /An OpenAI-compatible service/ }));
    expect(screen.getByRole("button", { name: "Test" })).toBeDisabled();
    expect(screen.getByText("Save first to test these settings.")).toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: "Model" }), "llama3.1");
    const key = screen.getByLabelText("Your own API key (optional)");
    expect(key).toHaveAttribute("type", "password");
    await user.type(key, "sk-secret");
    await user.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() =>
      expect(api.callsTo("PATCH", "/api/ai/settings")[0]?.body).toEqual({ provider: "openai", model: "llama3.1", api_key: "sk-secret" }),
    );
    expect(await screen.findByLabelText("Replace your API key")).toHaveValue("");
    expect(screen.getByText("A key of yours is saved.")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Test" }));
    expect(await screen.findByText("llama3.1 refused the API key — check it. Until it answers, the assistant on this machine stands in.")).toBeInTheDocument();
  });

  it("removes the user's key, refuses a budget that is not one, and explains a refusal", async () => {
    const api = serve(REMOTE, {
      "PATCH /api/ai/settings": [() => json({ ...REMOTE, has_own_key: false }), () => problem(422, "ai_provider_unavailable")],
    });
    const user = userEvent.setup();
    renderWithProviders(<AiSettingsPage />);
    await user.click(await screen.findByRole("button", { name: "Remove my key" }));
    await waitFor(() => expect(api.callsTo("PATCH", "/api/ai/settings")[0]?.body).toEqual({ api_key: "" }));
    expect(await screen.findByLabelText("Your own API key (optional)")).toBeInTheDocument();

    const budget = screen.getByRole("textbox", { name: "Daily budget" });
    await user.clear(budget);
    await user.type(budget, "lots");
    expect(screen.getByText("Write an amount in dollars from 0 to 10,000.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
    await user.clear(budget);
    await user.type(budget, "5");
    await user.click(screen.getByRole("switch", { name: /Hide personal details/ }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(api.callsTo("PATCH", "/api/ai/settings")[1]?.body).toEqual({ daily_budget_usd: 5, redact: false }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/no AI server set up/);
  });

  it("saves the share of Important when the slider is let go", async () => {
    const api = serve(LOCAL, { "PATCH /api/ai/settings": () => json({ ...LOCAL, important_share: 0.21 }) });
    renderWithProviders(<AiSettingsPage />);
    const slider = await screen.findByRole("slider");
    slider.focus();
    fireEvent.keyDown(slider, { key: "ArrowRight" });
    await waitFor(() => expect(api.callsTo("PATCH", "/api/ai/settings")[0]?.body).toEqual({ important_share: 0.21 }));
    expect(await screen.findByText("Share of the inbox in Important: 21 %")).toBeInTheDocument();
  });
});
