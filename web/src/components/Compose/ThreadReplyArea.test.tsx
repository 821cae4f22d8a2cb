import { configure, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { message, thread, THREAD_ID } from "@/components/Thread/fixtures";
import { ThreadView } from "@/components/Thread/ThreadView";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ComposeProvider } from "./ComposeProvider";
import { ACCOUNT_ID, draft } from "./fixtures";

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const TEAM = [
  message({ id: 1 }),
  message({
    id: 2,
    from: { name: "Bo", address: "bo@example.com" },
    to: [{ name: "Me Myself", address: "me@example.com" }],
    cc: [{ name: "Cy", address: "cy@example.com" }],
  }),
];

function serve(messages = TEAM) {
  const api = fakeApi({
    [`GET /api/threads/${THREAD_ID}`]: () => json(thread(messages)),
    "GET /api/accounts": () => json({ items: [{ id: ACCOUNT_ID, email: "me@example.com", display_name: "Me" }] }),
    "GET /api/users/me": () => json({ id: "u1", email: "me@example.com", name: "Me", send_undo_seconds: 10 }),
    "POST /api/drafts": () =>
      json(draft({ mode: "reply", thread_id: THREAD_ID, subject: "Re: Quarterly report", to: [{ name: "Bo", address: "bo@example.com" }] }), 201),
    [`GET /api/accounts/${ACCOUNT_ID}/identity`]: () => json({ account_id: ACCOUNT_ID, email: "me@example.com", send_as: [] }),
  });
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

beforeEach(() => authStore.setTokens(TOKENS));

describe("replying from a thread", () => {
  it("answers the newest message inline, in place of the buttons, and pops out on request", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderWithProviders(
      <ComposeProvider>
        <ThreadView threadId={THREAD_ID} />
      </ComposeProvider>,
    );
    const answer = await screen.findByRole("group", { name: "Answer" });
    // Bo wrote to me with Cy in copy: answering everyone reaches more than Bo.
    expect(within(answer).getAllByRole("button").map((button) => button.textContent)).toEqual(["Reply", "Reply all", "Forward", "AI reply"]);

    await user.click(within(answer).getByRole("button", { name: "Reply" }));
    const reply = await screen.findByRole("region", { name: "Reply" });
    expect(screen.getByRole("heading", { name: "Quarterly report" }).closest("section")).toContainElement(reply);
    expect(screen.queryByRole("group", { name: "Answer" })).not.toBeInTheDocument();
    await waitFor(() => expect(api.callsTo("POST", "/api/drafts")[0]?.body).toEqual({ mode: "reply", reply_to_message_id: 2 }));
    expect(await within(reply).findByRole("button", { name: "Bo <bo@example.com>" })).toBeInTheDocument();

    await user.click(within(reply).getByRole("button", { name: "Pop out" }));
    expect(await screen.findByRole("dialog", { name: "Re: Quarterly report" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Reply" })).not.toBeInTheDocument();
  });

  it("offers Reply all only when it reaches someone besides the sender, and answers from each card", async () => {
    const api = serve([message({ id: 5 })]);
    const user = userEvent.setup();
    renderWithProviders(
      <ComposeProvider>
        <ThreadView threadId={THREAD_ID} />
      </ComposeProvider>,
    );
    const answer = await screen.findByRole("group", { name: "Answer" });
    expect(within(answer).queryByRole("button", { name: "Reply all" })).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "More options for this message" }));
    await user.click(await screen.findByRole("menuitem", { name: "Forward" }));
    await waitFor(() => expect(api.callsTo("POST", "/api/drafts")[0]?.body).toEqual({ mode: "forward", forward_of_message_id: 5 }));
  });
});
