import type { AiSettings, AiSettingsUpdate, AiTestResult } from "@/api/ai";

import { remoteName } from "./providerWords";

/** Settings → AI's form, as plain data: what it starts from, what a save sends, what it says. */

export type ProviderChoice = "local" | "openai";

export interface AiForm {
  provider: ProviderChoice;
  model: string;
  /** A new key to store; empty leaves the stored one alone. */
  apiKey: string;
  /** Dollars, as typed. */
  budget: string;
  redact: boolean;
}

export function formOf(settings: AiSettings): AiForm {
  const remote = settings.provider === "openai";
  return {
    provider: remote ? "openai" : "local",
    // The local model's name is no use to a remote server: the server's default then.
    model: remote ? settings.model : "",
    apiKey: "",
    budget: String(settings.daily_budget_usd),
    redact: settings.redact,
  };
}

/** A budget as typed, when it is one: a number of dollars from 0 to 10,000. */
export function parseBudget(text: string): number | null {
  const value = Number(text.trim().replace(",", "."));
  return text.trim() !== "" && Number.isFinite(value) && value >= 0 && value <= 10_000 ? value : null;
}

/** Only what changed, so a save never resets what the user did not touch. */
export function changesOf(form: AiForm, settings: AiSettings): AiSettingsUpdate {
  const start = formOf(settings);
  const body: AiSettingsUpdate = {};
  if (form.provider !== start.provider) body.provider = form.provider;
  const model = form.model.trim();
  if (form.provider === "openai" && model !== "" && model !== start.model) body.model = model;
  if (form.apiKey.trim() !== "") body.api_key = form.apiKey.trim();
  const budget = parseBudget(form.budget);
  if (budget !== null && budget !== settings.daily_budget_usd) body.daily_budget_usd = budget;
  if (form.redact !== settings.redact) body.redact = form.redact;
  return body;
}

/** Who sees the mail, in one sentence: the first thing the page says. */
export function privacyLine(settings: AiSettings): string {
  if (!settings.remote) return "Nothing leaves this machine: the assistant works inside Postwise, on this server.";
  const redacted = settings.redact ? " Email addresses, phone and card numbers are replaced before it leaves." : "";
  return `Your mail is sent to ${remoteName(settings.model, settings.base_url)} to be sorted, summarised and answered.${redacted}`;
}

const TEST_ERRORS: Record<string, string> = {
  timeout: "took too long to answer",
  connection: "couldn't be reached — check the server's address",
  rate_limited: "is busy and asked to wait — try again in a minute",
  server_error: "had a problem of its own — try again later",
  unauthorized: "refused the API key — check it",
  not_found: "doesn't know this model — check its name",
  bad_request: "refused the request — check the model's name",
};

/** The test's answer in words. */
export function testWords(result: AiTestResult): string {
  const ms = Math.round(result.latency_ms);
  if (result.ok) {
    return result.provider === "local"
      ? `The assistant on this machine answered in ${ms} ms.`
      : `${result.model} answered in ${ms} ms.`;
  }
  const why = (result.error_code && TEST_ERRORS[result.error_code]) ?? "didn't answer as expected";
  return `${result.model} ${why}. Until it answers, the assistant on this machine stands in.`;
}

/** Save refusals in the user's words. */
export const SETTINGS_ERRORS: Record<string, string> = {
  ai_provider_unavailable:
    "This Postwise has no AI server set up. Add an API key of your own to use an OpenAI-compatible service.",
};
