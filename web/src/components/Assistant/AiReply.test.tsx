import { act, configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { ComposeProvider } from "@/components/Compose/ComposeProvider";
import { ACCOUNT_ID, draft, DRAFT_ID } from "@/components/Compose/fixtures";
import { message, thread, THREAD_ID } from "@/components/Thread/fixtures";
import { ThreadView } from "@/components/Thread/ThreadView";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { ndjsonStream } from "@/test/ndjson";
import { renderWithProviders } from "@/test/render";

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const AI_DRAFT_ID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const REPLY = { mode: "reply" as const, thread_id: THREAD_ID, subject: "Re: Quarterly report", to: [{ name: "Ana Silva", address: "ana@example.com" }] };

function serve(stream: ReturnType<typeof ndjsonStream>) {
  const api = fakeApi({
    [`GET /api/threads/${THREAD_ID}`]: () => json(thread([message({ id: 5 })])),
    "GET /api/accounts": () => json({ items: [{ id: ACCOUNT_ID, email: "me@example.com", display_name: "Me" }] }),
    "GET /api/users/me": () => json({ id: "u1", email: "me@example.com", name: "Me", send_undo_seconds: 10 }),
    [`GET /api/accounts/${ACCOUNT_ID}/identity`]: () => json({ account_id: ACCOUNT_ID, email: "me@example.com", send_as: [] }),
    "POST /api/drafts": () => json(draft(REPLY), 201),
    "POST /api/ai/drafts": () => stream.response(),
    [`DELETE /api/drafts/${DRAFT_ID}`]: () => new Response(null, { status: 204 }),
    [`DELETE /api/drafts/${AI_DRAFT_ID}`]: () => new Response(null, { status: 204 }),
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

function renderThread() {
  renderWithProviders(
    <ComposeProvider>
      <ThreadView threadId={THREAD_ID} />
    </ComposeProvider>,
  );
}

/** Choose a tone and what to say in the "AI reply" form, and start. */
async function ask(user: ReturnType<typeof userEvent.setup>, tone: string, instruction: string) {
  const form = await screen.findByRole("dialog", { name: "Write a reply with the assistant" });
  await user.click(within(form).getByRole("radio", { name: tone }));
  if (instruction) await user.type(within(form).getByRole("textbox", { name: "What to say (optional)" }), instruction);
  await user.click(within(form).getByRole("button", { name: "Write reply" }));
}

const made = draft({ ...REPLY, id: AI_DRAFT_ID });
const written = "Hi Ana,\n\nThanks, the numbers look good. I'll comment by Friday.\n\nMe";

beforeEach(() => authStore.setTokens(TOKENS));

describe("AI reply", () => {
  it("streams the reply visibly under the thread, then opens the saved draft in the composer", async () => {
    const stream = ndjsonStream();
    const api = serve(stream);
    const user = userEvent.setup();
    renderThread();
    const answer = await screen.findByRole("group", { name: "Answer" });
    await user.click(within(answer).getByRole("button", { name: "AI reply" }));
    await ask(user, "Friendly", "say the numbers look good");

    const panel = await screen.findByRole("region", { name: "AI reply · Friendly" });
    expect(screen.queryByRole("group", { name: "Answer" })).not.toBeInTheDocument();
    expect(within(panel).getByRole("status")).toHaveTextContent("Reading the conversation…");
    await waitFor(() =>
      expect(api.callsTo("POST", "/api/ai/drafts")[0]?.body).toEqual({
        thread_id: THREAD_ID,
        tone: "friendly",
        instruction: "say the numbers look good",
      }),
    );
    act(() => {
      stream.send({ type: "draft", draft: made });
      stream.send({ type: "delta", text: "Hi Ana,\n\nThanks, " });
    });
    const text = within(panel).getByTestId("ai-reply-text");
    await waitFor(() => expect(text.textContent).toBe("Hi Ana,\n\nThanks, "));
    expect(within(panel).getByRole("status")).toHaveTextContent("Writing…");
    act(() => stream.send({ type: "delta", text: written.slice("Hi Ana,\n\nThanks, ".length) }));
    await waitFor(() => expect(text.textContent).toBe(written));

    act(() => {
      stream.send({ type: "done", draft: { ...made, text: written, html: null, version: 2 }, provider: "local", model: "postwise-local" });
      stream.end();
    });
    const reply = await screen.findByRole("region", { name: "Reply" });
    expect(screen.queryByRole("region", { name: "AI reply · Friendly" })).not.toBeInTheDocument();
    expect(await within(reply).findByRole("textbox", { name: "Message body" })).toHaveTextContent(/the numbers look good/);
    // The server made the draft: the composer opens it rather than making another.
    expect(api.callsTo("POST", "/api/drafts")).toHaveLength(0);
    expect(api.callsTo("GET", `/api/drafts/${AI_DRAFT_ID}`)).toHaveLength(0);
  });

  it("stops on request: the half-written draft goes, the buttons come back", async () => {
    const stream = ndjsonStream();
    const api = serve(stream);
    const user = userEvent.setup();
    renderThread();
    await user.click(within(await screen.findByRole("group", { name: "Answer" })).getByRole("button", { name: "AI reply" }));
    await ask(user, "Brief", "no");
    const panel = await screen.findByRole("region", { name: "AI reply · Brief" });
    act(() => stream.send({ type: "draft", draft: made }));
    act(() => stream.send({ type: "delta", text: "No, " }));
    await waitFor(() => expect(within(panel).getByTestId("ai-reply-text").textContent).toBe("No, "));

    await user.click(within(panel).getByRole("button", { name: "Stop" }));
    expect(await screen.findByRole("group", { name: "Answer" })).toBeInTheDocument();
    await waitFor(() => expect(api.callsTo("DELETE", `/api/drafts/${AI_DRAFT_ID}`)).toHaveLength(1));
  });

  it("writes over an open reply window and takes its place, dropping the untouched draft", async () => {
    const stream = ndjsonStream();
    const api = serve(stream);
    const user = userEvent.setup();
    renderThread();
    await user.click(within(await screen.findByRole("group", { name: "Answer" })).getByRole("button", { name: "Reply" }));
    const reply = await screen.findByRole("region", { name: "Reply" });
    const button = await within(reply).findByRole("button", { name: "AI reply" });
    await user.click(button);
    await ask(user, "Formal", "");
    await waitFor(() => expect(api.callsTo("POST", "/api/ai/drafts")[0]?.body).toMatchObject({ tone: "formal", instruction: null }));
    const panel = within(reply).getByRole("region", { name: "AI reply · Formal" });
    act(() => {
      stream.send({ type: "draft", draft: made });
      stream.send({ type: "delta", text: "Dear Ana," });
    });
    await waitFor(() => expect(within(panel).getByTestId("ai-reply-text").textContent).toBe("Dear Ana,"));
    act(() => {
      stream.send({ type: "done", draft: { ...made, text: "Dear Ana,", html: null, version: 2 }, provider: "local", model: "postwise-local" });
      stream.end();
    });
    await waitFor(() => expect(api.callsTo("DELETE", `/api/drafts/${DRAFT_ID}`)).toHaveLength(1));
    const next = await screen.findByRole("region", { name: "Reply" });
    expect(await within(next).findByRole("textbox", { name: "Message body" })).toHaveTextContent("Dear Ana,");
    expect(api.callsTo("DELETE", `/api/drafts/${AI_DRAFT_ID}`)).toHaveLength(0);
  });
});
