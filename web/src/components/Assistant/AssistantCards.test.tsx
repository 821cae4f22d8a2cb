import { screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AiOverview } from "@/api/ai";
import { authStore } from "@/auth/store";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { AssistantCards } from "./AssistantCards";

const OVERVIEW: AiOverview = {
  needs_reply: 4,
  important_unread: 2,
  by_category: [
    { category: "newsletter", count: 310 },
    { category: "work", count: 120 },
    { category: "cold_outreach", count: 7 },
    { category: "social", count: 0 },
  ],
  today_cost_usd: 0.0125,
  today_calls: 37,
  provider: "openai",
};

function serve(answer: () => Response) {
  vi.stubGlobal("fetch", fakeApi({ "GET /api/ai/overview": answer }).fetch);
}

beforeEach(() => {
  // Charts size themselves to their container; the test DOM has no layout to observe.
  vi.stubGlobal(
    "ResizeObserver",
    class {
      observe() {}
      unobserve() {}
      disconnect() {}
    },
  );
  authStore.setTokens(TOKENS);
});

describe("the dashboard's assistant cards", () => {
  it("writes out what needs a reply, what is important, the categories and today's cost", async () => {
    serve(() => json(OVERVIEW));
    renderWithProviders(<AssistantCards />);

    const needs = await screen.findByRole("region", { name: "Needs a reply" });
    expect(within(needs).getByTestId("ai-needs-reply-figure")).toHaveTextContent("4");
    expect(within(needs).getByRole("link", { name: "Show the conversations that need a reply" })).toHaveAttribute(
      "href",
      "/?q=needs%3Areply",
    );
    const important = screen.getByRole("region", { name: "Important, unread" });
    expect(within(important).getByTestId("ai-important-figure")).toHaveTextContent("2");
    expect(within(important).getByRole("link")).toHaveAttribute("href", "/?q=is%3Aimportant%20is%3Aunread");

    const categories = screen.getByRole("region", { name: "Mail by category" });
    expect(within(categories).getByTestId("ai-categories-figure")).toHaveTextContent("Newsletter");
    expect(within(categories).getByRole("img")).toHaveAccessibleName(
      "Inbox mail per category over the last 30 days: Newsletter: 310; Work: 120; Cold outreach: 7.",
    );

    const usage = screen.getByRole("region", { name: "Assistant today" });
    expect(within(usage).getByTestId("ai-usage-figure")).toHaveTextContent("$0.0125");
    expect(usage).toHaveTextContent("spent on 37 requests today");
  });

  it("counts requests, not dollars, when this machine answers, and says when all is quiet", async () => {
    serve(() => json({ ...OVERVIEW, needs_reply: 0, important_unread: 0, by_category: [], today_cost_usd: 0, provider: "local" }));
    renderWithProviders(<AssistantCards />);
    const usage = await screen.findByRole("region", { name: "Assistant today" });
    expect(within(usage).getByTestId("ai-usage-figure")).toHaveTextContent("37 requests");
    expect(usage).toHaveTextContent("answered on this machine, at no cost");
    expect(screen.getByText("Nothing in your inbox waits for an answer from you.")).toBeInTheDocument();
    expect(screen.getByText("Nothing sorted in the last 30 days yet.")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /need a reply/ })).not.toBeInTheDocument();
  });

  it("offers to try again when the figures could not be loaded", async () => {
    serve(() => problem(500, "internal"));
    renderWithProviders(<AssistantCards />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Couldn't load the assistant's figures.");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
