import { describe, expect, it } from "vitest";

import type { AiSettings } from "@/api/ai";

import { categoryLabel, chipOfQuery } from "./categories";
import { formatCost, hostOf, summarisedBy } from "./providerWords";
import { changesOf, formOf, parseBudget, privacyLine, testWords } from "./settingsForm";

const SETTINGS: AiSettings = {
  provider: "openai",
  model: "gpt-4o-mini",
  base_url: "http://localhost:11434/v1",
  remote: true,
  has_own_key: false,
  daily_budget_usd: 1,
  redact: false,
  important_share: 0.2,
  triage: { total: 0, done: 0 },
};

describe("categories and filters", () => {
  it("words categories, including ones this client does not know yet", () => {
    expect(categoryLabel("cold_outreach")).toBe("Cold outreach");
    expect(categoryLabel("travel_plans")).toBe("Travel plans");
  });

  it("knows a chip's search whatever its case, and nothing else", () => {
    expect(chipOfQuery(" Category:Newsletter ")?.label).toBe("Newsletter");
    expect(chipOfQuery("needs:reply")?.label).toBe("Needs reply");
    expect(chipOfQuery("category:newsletter from:ana")).toBeUndefined();
    expect(chipOfQuery(undefined)).toBeUndefined();
  });
});

describe("who did the work", () => {
  it("names this machine, or the model and the server's host", () => {
    expect(summarisedBy("local", "postwise-local", null)).toBe("Summarised on this machine");
    expect(summarisedBy("openai", "llama3.1", "http://localhost:11434/v1")).toBe("Summarised by llama3.1 (localhost:11434)");
    expect(summarisedBy("openai", "gpt-4o-mini", undefined)).toBe("Summarised by gpt-4o-mini");
    expect(hostOf("not a url")).toBe("not a url");
    expect(formatCost(0.0072)).toBe("$0.0072");
    expect(formatCost(2)).toBe("$2.00");
  });
});

describe("the settings form", () => {
  it("sends only what changed", () => {
    const form = formOf(SETTINGS);
    expect(changesOf(form, SETTINGS)).toEqual({});
    expect(changesOf({ ...form, model: " llama3.1 ", budget: "2,5", redact: true }, SETTINGS)).toEqual({
      model: "llama3.1",
      daily_budget_usd: 2.5,
      redact: true,
    });
    // Back to this machine: a model typed for the remote service is not sent.
    expect(changesOf({ ...form, provider: "local", model: "other" }, SETTINGS)).toEqual({ provider: "local" });
    // The local model's name is not offered for a remote service.
    expect(formOf({ ...SETTINGS, provider: "local", model: "postwise-local" }).model).toBe("");
  });

  it("takes budgets from 0 to 10,000 dollars", () => {
    expect(parseBudget("0")).toBe(0);
    expect(parseBudget("12.50")).toBe(12.5);
    expect(parseBudget("")).toBeNull();
    expect(parseBudget("-1")).toBeNull();
    expect(parseBudget("20000")).toBeNull();
  });

  it("says who sees the mail", () => {
    expect(privacyLine({ ...SETTINGS, remote: false, provider: "local" })).toMatch(/^Nothing leaves this machine/);
    expect(privacyLine(SETTINGS)).toBe("Your mail is sent to gpt-4o-mini (localhost:11434) to be sorted, summarised and answered.");
  });

  it("words the test's answer", () => {
    expect(testWords({ ok: true, provider: "local", model: "postwise-local", latency_ms: 3.2 })).toBe(
      "The assistant on this machine answered in 3 ms.",
    );
    expect(testWords({ ok: true, provider: "openai", model: "gpt-4o-mini", latency_ms: 420.6 })).toBe("gpt-4o-mini answered in 421 ms.");
    expect(testWords({ ok: false, provider: "openai", model: "m", latency_ms: 1, error_code: "timeout" })).toMatch(/^m took too long/);
    expect(testWords({ ok: false, provider: "openai", model: "m", latency_ms: 1, error_code: "strange" })).toMatch(
      /^m didn't answer as expected/,
    );
  });
});
