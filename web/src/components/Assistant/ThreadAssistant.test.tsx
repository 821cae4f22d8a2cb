import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { ThreadSummaryOut } from "@/api/ai";
import { authStore } from "@/auth/store";
import { message, thread, THREAD_ID } from "@/components/Thread/fixtures";
import { ThreadView } from "@/components/Thread/ThreadView";
import { fakeApi, json, problem, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const SUMMARY: ThreadSummaryOut = {
  thread_id: THREAD_ID,
  summary: "Ana sends the Q1 report and asks for comments by Friday.",
  key_points: ["Revenue is up 12 %", "Costs are flat"],
  questions: ["Can you comment by Friday?"],
  action_items: [{ text: "Comment on the report", due: "2024-03-08" }],
  provider: "local",
  model: "postwise-local",
};

const SETTINGS = {
  provider: "openai",
  model: "gpt-4o-mini",
  base_url: "https://api.openai.com/v1",
  remote: true,
  has_own_key: false,
  daily_budget_usd: 1,
  redact: false,
  important_share: 0.2,
  triage: { total: 10, done: 10 },
};

const TRIAGED = message({
  id: 7,
  category: "work",
  needs_reply: true,
  priority: 0.91,
  priority_bucket: "high",
  important: true,
  reasons: ["You reply to Ana most of the time", "It asks you a question"],
});

function serve(routes: Parameters<typeof fakeApi>[0] = {}) {
  const api = fakeApi({
    [`GET /api/threads/${THREAD_ID}`]: () => json(thread([TRIAGED])),
    [`GET /api/ai/threads/${THREAD_ID}/summary`]: () => json(SUMMARY),
    "GET /api/ai/settings": () => json(SETTINGS),
    ...routes,
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

beforeEach(() => authStore.setTokens(TOKENS));

describe("the summary card", () => {
  it("summarises the thread, details on demand, and says it was done on this machine", async () => {
    serve();
    const user = userEvent.setup();
    renderWithProviders(<ThreadView threadId={THREAD_ID} />);
    const card = await screen.findByRole("region", { name: "Summary" });
    expect(await within(card).findByText(SUMMARY.summary)).toBeInTheDocument();
    expect(within(card).getByText("Summarised on this machine")).toBeInTheDocument();
    expect(within(card).queryByText("Revenue is up 12 %")).not.toBeInTheDocument();

    await user.click(within(card).getByRole("button", { name: "2 key points · 1 question · 1 action item" }));
    expect(within(card).getByText("Revenue is up 12 %")).toBeInTheDocument();
    expect(within(card).getByText("Can you comment by Friday?")).toBeInTheDocument();
    expect(within(card).getByText(/^Comment on the report \(by .*8.*2024\)$/)).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Hide details" })).toHaveAttribute("aria-expanded", "true");
  });

  it("names the remote model and its server", async () => {
    serve({ [`GET /api/ai/threads/${THREAD_ID}/summary`]: () => json({ ...SUMMARY, provider: "openai", model: "gpt-4o-mini" }) });
    renderWithProviders(<ThreadView threadId={THREAD_ID} />);
    expect(await screen.findByText("Summarised by gpt-4o-mini (api.openai.com)")).toBeInTheDocument();
  });

  it("shows a skeleton while the summary is written, and nothing for a thread the server does not know", async () => {
    let answer!: (response: Response) => void;
    serve({ [`GET /api/ai/threads/${THREAD_ID}/summary`]: () => new Promise<Response>((resolve) => (answer = resolve)) });
    renderWithProviders(<ThreadView threadId={THREAD_ID} />);
    const card = await screen.findByRole("region", { name: "Summary" });
    expect(card).toHaveAttribute("aria-busy", "true");
    expect(within(card).getByRole("status")).toHaveTextContent("Summarising this conversation");
    answer(problem(404, "not_found"));
    await waitFor(() => expect(screen.queryByRole("region", { name: "Summary" })).not.toBeInTheDocument());
  });
});

describe("the assistant's word on a message", () => {
  it("shows the priority with its reasons, the category and needs-a-reply", async () => {
    serve();
    const user = userEvent.setup();
    renderWithProviders(<ThreadView threadId={THREAD_ID} />);
    const bar = await screen.findByRole("group", { name: "Assistant" });
    expect(within(bar).getByText("Work")).toBeInTheDocument();
    expect(within(bar).getByText("Needs a reply")).toBeInTheDocument();
    const marker = within(bar).getByTestId("priority-marker");
    expect(marker).toHaveTextContent("Important");
    await user.hover(marker);
    const tip = await screen.findByRole("tooltip");
    expect(within(tip).getByText("You reply to Ana most of the time")).toBeInTheDocument();
    expect(within(tip).getByText("It asks you a question")).toBeInTheDocument();
  });

  it("takes feedback at once, says so, and takes it back when the server refuses", async () => {
    let refuse = false;
    const api = serve({
      "POST /api/ai/feedback": (call) => {
        if (refuse) return problem(404, "not_found");
        const body = call.body as { message_id: number; important: boolean | null; category: string | null };
        return json({ message_id: 7, important: body.important ?? true, category: body.category ?? "work", thread_id: THREAD_ID });
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<ThreadView threadId={THREAD_ID} />);
    const bar = await screen.findByRole("group", { name: "Assistant" });
    expect(within(bar).getByRole("button", { name: "Important" })).toHaveAttribute("aria-pressed", "true");

    await user.click(within(bar).getByRole("button", { name: "Not important" }));
    expect(within(bar).getByRole("button", { name: "Not important" })).toHaveAttribute("aria-pressed", "true");
    expect(await screen.findByText("Marked not important. Mail like this will rank lower.")).toBeInTheDocument();
    expect(api.callsTo("POST", "/api/ai/feedback")[0]?.body).toEqual({ message_id: 7, important: false, category: null });

    await user.click(within(bar).getByRole("button", { name: "Change category" }));
    const menu = await screen.findByRole("menu");
    expect(within(menu).getByRole("menuitem", { name: "Work" })).toHaveClass("Mui-selected");
    await user.click(within(menu).getByRole("menuitem", { name: "Receipt" }));
    await waitFor(() =>
      expect(api.callsTo("POST", "/api/ai/feedback")[1]?.body).toEqual({ message_id: 7, important: null, category: "receipt" }),
    );
    expect(await screen.findByText("Filed under Receipt. Mail like it will be too.")).toBeInTheDocument();

    refuse = true;
    await user.click(within(bar).getByRole("button", { name: "Change category" }));
    await user.click(within(await screen.findByRole("menu")).getByRole("menuitem", { name: "Social" }));
    expect(await screen.findByText("Couldn’t save that. That message is no longer there.")).toBeInTheDocument();
    expect(within(bar).getByText("Receipt")).toBeInTheDocument();
  });
});
