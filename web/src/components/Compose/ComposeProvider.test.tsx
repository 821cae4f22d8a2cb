import { act, configure, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { DraftUpdate } from "@/api/compose";
import { authStore } from "@/auth/store";
import { emitLiveEvent } from "@/live/bus";
import { fakeApi, json, noContent, problem, TOKENS, type Call } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ComposeProvider, useCompose } from "./ComposeProvider";
import { ACCOUNT_ID, DRAFT_ID, draft, FakeXhr, withoutMeta } from "./fixtures";

vi.setConfig({ testTimeout: 20_000 });
configure({ asyncUtilTimeout: 5_000 });

const DRAFT_PATH = `/api/drafts/${DRAFT_ID}`;

function Harness() {
  const compose = useCompose();
  return (
    <div>
      <button type="button" onClick={() => compose.openNew()}>
        New
      </button>
      <button type="button" onClick={() => compose.openReply(42, "reply")}>
        Answer
      </button>
    </div>
  );
}

function serve(options: { undoSeconds?: number; send?: (call: Call) => Response } = {}) {
  let stored = draft();
  const api = fakeApi({
    "GET /api/users/me": () => json({ id: "u1", email: "me@example.com", name: "Me", send_undo_seconds: options.undoSeconds ?? 10 }),
    "GET /api/accounts": () => json({ items: [{ id: ACCOUNT_ID, email: "me@example.com", display_name: "Me" }] }),
    [`GET /api/accounts/${ACCOUNT_ID}/identity`]: () =>
      json({ account_id: ACCOUNT_ID, email: "me@example.com", display_name: "Me", send_as: [], signature_text: "", signature_html: "" }),
    "POST /api/drafts": (call) => {
      const body = call.body as { mode: string };
      stored =
        body.mode === "reply"
          ? draft({ mode: "reply", subject: "Re: Plans", to: [{ name: "Ana", address: "ana@x.org" }], html: "<p></p><blockquote><p>Old words</p></blockquote>" })
          : draft();
      return json(stored, 201);
    },
    [`GET ${DRAFT_PATH}`]: () => json(stored),
    [`PATCH ${DRAFT_PATH}`]: (call) => {
      const fields = withoutMeta(call.body as DraftUpdate);
      stored = { ...stored, ...fields, version: stored.version + 1 };
      return json(stored);
    },
    [`DELETE ${DRAFT_PATH}`]: () => noContent(),
    [`POST ${DRAFT_PATH}/send`]:
      options.send ??
      (() => {
        stored = { ...stored, status: "queued" };
        return json({ id: DRAFT_ID, status: "queued", scheduled: false, send_at: null, to: stored.to, subject: stored.subject }, 202);
      }),
    [`POST /api/outbox/${DRAFT_ID}/cancel`]: () => {
      stored = { ...stored, status: "draft" };
      return json(stored);
    },
    "GET /api/contacts": () => json({ items: [] }),
  });
  vi.stubGlobal("fetch", api.fetch);
  /** The upload (XMLHttpRequest, faked apart) stored a file with the draft. */
  const storedAttachment = (attachment: ReturnType<typeof draft>["attachments"][number]) => {
    stored = { ...stored, attachments: [...stored.attachments, attachment], version: stored.version + 1 };
  };
  return Object.assign(api, { storeAttachment: storedAttachment });
}

function renderComposer() {
  return renderWithProviders(
    <ComposeProvider>
      <Harness />
    </ComposeProvider>,
  );
}

beforeEach(() => {
  authStore.setTokens(TOKENS);
});
afterEach(() => FakeXhr.reset());

describe("compose window", () => {
  it("opens a new message with the focus in To; chips, subject, then Ctrl+Enter sends, Undo takes it back", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderComposer();

    await user.click(screen.getByRole("button", { name: "New" }));
    const dialog = await screen.findByRole("dialog", { name: "New message" });
    const to = within(dialog).getByRole("combobox", { name: "To" });
    await waitFor(() => expect(to).toHaveFocus());
    await waitFor(() => expect(api.callsTo("POST", "/api/drafts")).toHaveLength(1));
    expect(api.callsTo("POST", "/api/drafts")[0]?.body).toEqual({ mode: "new", to: null, subject: null });

    await user.type(to, "ana@x.org,");
    expect(within(dialog).getByRole("button", { name: "ana@x.org" })).toBeInTheDocument();
    await user.type(within(dialog).getByRole("textbox", { name: "Subject" }), "Plans");
    await user.keyboard("{Control>}{Enter}{/Control}");

    // The window goes at once; the snackbar offers Undo.
    await waitFor(() => expect(screen.queryByRole("dialog", { name: "Plans" })).not.toBeInTheDocument());
    expect(await screen.findByText("Sending…")).toBeInTheDocument();
    await waitFor(() => expect(api.callsTo("POST", `${DRAFT_PATH}/send`)).toHaveLength(1));
    // Saved first, then sent with the version the last save produced.
    const patches = api.callsTo("PATCH", DRAFT_PATH).map((call) => call.body as DraftUpdate);
    expect(Object.assign({}, ...patches)).toMatchObject({ subject: "Plans", to: [{ name: "", address: "ana@x.org" }] });
    expect(api.callsTo("POST", `${DRAFT_PATH}/send`)[0]?.body).toEqual({ send_at: null, version: patches.length + 1 });

    await user.click(await screen.findByRole("button", { name: "Undo" }));
    await waitFor(() => expect(api.callsTo("POST", `/api/outbox/${DRAFT_ID}/cancel`)).toHaveLength(1));
    const reopened = await screen.findByRole("dialog", { name: "Plans" });
    expect(within(reopened).getByRole("button", { name: "ana@x.org" })).toBeInTheDocument();
    expect(await screen.findByText("Sending undone.")).toBeInTheDocument();
  });

  it("offers no Undo when the user's undo window is 0 seconds", async () => {
    const api = serve({ undoSeconds: 0 });
    const user = userEvent.setup();
    renderComposer();
    await waitFor(() => expect(api.callsTo("GET", "/api/users/me")).toHaveLength(1));
    await user.click(screen.getByRole("button", { name: "New" }));
    const dialog = await screen.findByRole("dialog", { name: "New message" });
    await user.type(within(dialog).getByRole("combobox", { name: "To" }), "ana@x.org{Enter}");
    await user.click(within(dialog).getByRole("button", { name: "Send" }));
    expect(await screen.findByText("Sending…")).toBeInTheDocument();
    await waitFor(() => expect(api.callsTo("POST", `${DRAFT_PATH}/send`)).toHaveLength(1));
    expect(screen.queryByRole("button", { name: "Undo" })).not.toBeInTheDocument();
  });

  it("keeps the window open and shows the server's problem next to the field it names", async () => {
    serve({
      send: () =>
        problem(422, "validation_failed", {
          detail: "Check the recipients.",
          errors: [{ field: "body.to[0].address", message: "the mail server refused this address" }],
        }),
    });
    const user = userEvent.setup();
    renderComposer();
    await user.click(screen.getByRole("button", { name: "New" }));
    const dialog = await screen.findByRole("dialog", { name: "New message" });
    await user.type(within(dialog).getByRole("combobox", { name: "To" }), "ana@x.org{Enter}");
    await user.click(within(dialog).getByRole("button", { name: "Send" }));

    const again = await screen.findByRole("dialog", { name: "New message" });
    expect(await within(again).findByText("The mail server refused this address.")).toBeInTheDocument();
    expect(within(again).getByRole("combobox", { name: "To" })).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByText("Sending…")).not.toBeInTheDocument();
  });

  it("opens a reply with the server's prefill and the focus in the body", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderComposer();
    await user.click(screen.getByRole("button", { name: "Answer" }));
    const dialog = await screen.findByRole("dialog", { name: "Re: Plans" });
    expect(api.callsTo("POST", "/api/drafts")[0]?.body).toEqual({ mode: "reply", reply_to_message_id: 42 });
    expect(within(dialog).getByRole("button", { name: "Ana <ana@x.org>" })).toBeInTheDocument();
    const body = await within(dialog).findByRole("textbox", { name: "Message body" });
    expect(body).toHaveTextContent("Old words");
    await waitFor(() => expect(body).toHaveFocus());
  });

  it("Escape saves and closes; an untouched draft is thrown away", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderComposer();
    await user.click(screen.getByRole("button", { name: "New" }));
    const dialog = await screen.findByRole("dialog", { name: "New message" });
    await waitFor(() => expect(api.callsTo("POST", "/api/drafts")).toHaveLength(1));
    await user.type(within(dialog).getByRole("textbox", { name: "Subject" }), "Keep me");
    fireEvent.keyDown(within(dialog).getByRole("textbox", { name: "Subject" }), { key: "Escape" });
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(api.callsTo("PATCH", DRAFT_PATH).at(-1)?.body).toMatchObject({ subject: "Keep me" });
    expect(api.callsTo("DELETE", DRAFT_PATH)).toHaveLength(0);

    await user.click(screen.getByRole("button", { name: "New" }));
    const empty = await screen.findByRole("dialog", { name: "New message" });
    await waitFor(() => expect(api.callsTo("POST", "/api/drafts")).toHaveLength(2));
    await user.click(within(empty).getByRole("button", { name: "Save and close" }));
    await waitFor(() => expect(api.callsTo("DELETE", DRAFT_PATH)).toHaveLength(1));
  });

  it("Escape in the body closes the window too (the editor marks it handled)", async () => {
    serve();
    const user = userEvent.setup();
    renderComposer();
    await user.click(screen.getByRole("button", { name: "Answer" }));
    const dialog = await screen.findByRole("dialog", { name: "Re: Plans" });
    const body = await within(dialog).findByRole("textbox", { name: "Message body" });
    await waitFor(() => expect(body).toHaveFocus());
    const escape = fireEvent.keyDown(body, { key: "Escape", keyCode: 27 });
    expect(escape).toBe(false);
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });

  it("attaches dropped and picked files with a progress bar each, and shows the server's 413 in words", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const server = serve();
    const user = userEvent.setup();
    renderComposer();
    await user.click(screen.getByRole("button", { name: "New" }));
    const dialog = await screen.findByRole("dialog", { name: "New message" });

    const plan = new File(["x".repeat(1000)], "plan.pdf", { type: "application/pdf" });
    fireEvent.dragEnter(dialog, { dataTransfer: { types: ["Files"], files: [plan] } });
    expect(within(dialog).getByText("Drop files here to attach them")).toBeInTheDocument();
    fireEvent.drop(dialog, { dataTransfer: { types: ["Files"], files: [plan] } });
    await waitFor(() => expect(FakeXhr.all).toHaveLength(1));
    act(() => FakeXhr.all[0]!.progress(400, 1000));
    const bar = within(dialog).getByRole("progressbar", { name: "Uploading plan.pdf" });
    expect(bar).toHaveAttribute("aria-valuenow", "40");
    expect(within(dialog).getByText("40% of 1000 B")).toBeInTheDocument();
    const stored = { position: 0, filename: "plan.pdf", content_type: "application/pdf", size: 1000, is_inline: false, content_id: null };
    server.storeAttachment(stored);
    act(() => FakeXhr.all[0]!.respond(201, stored));
    await waitFor(() => expect(within(dialog).queryByRole("progressbar")).not.toBeInTheDocument());
    expect(within(dialog).getByRole("button", { name: "Remove: plan.pdf" })).toBeInTheDocument();

    const picker = dialog.querySelector<HTMLInputElement>('input[type="file"]')!;
    fireEvent.change(picker, { target: { files: [new File(["y"], "huge.iso")] } });
    await waitFor(() => expect(FakeXhr.all).toHaveLength(2));
    act(() =>
      FakeXhr.all[1]!.respond(413, {
        type: "about:blank",
        title: "Payload Too Large",
        status: 413,
        code: "attachment_too_large",
        detail: "Attachments may add up to 25 MB; this one would make 31 MB.",
      }),
    );
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Attachments may add up to 25 MB; this one would make 31 MB.");
    await user.click(within(dialog).getByRole("button", { name: "Dismiss: huge.iso" }));
    expect(within(dialog).queryByText("huge.iso")).not.toBeInTheDocument();
  });

  it("says when the outbox reports a message that could not be sent, and opens it", async () => {
    const api = serve();
    const user = userEvent.setup();
    renderComposer();
    act(() =>
      emitLiveEvent({
        type: "outbox.updated",
        data: { id: DRAFT_ID, status: "failed", last_error: "550 mailbox unavailable" },
      }),
    );
    expect(await screen.findByText("Message not sent: 550 mailbox unavailable")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Open" }));
    expect(await screen.findByRole("dialog", { name: "Draft" })).toBeInTheDocument();
    await waitFor(() => expect(api.callsTo("GET", DRAFT_PATH).length).toBeGreaterThan(0));
  });
});
