import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { DraftUpdate } from "@/api/compose";
import { authStore } from "@/auth/store";
import { fakeApi, json, noContent, problem, TOKENS, type Call } from "@/test/fakeApi";

import { DRAFT_ID, draft, FakeXhr, withoutMeta } from "./fixtures";
import { parseRecipients } from "./recipients";
import { ComposeSession, SAVE_DELAY_MS } from "./session";

const DRAFT_PATH = `/api/drafts/${DRAFT_ID}`;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  authStore.setTokens(TOKENS);
});
afterEach(() => {
  vi.useRealTimers();
  FakeXhr.reset();
});

/** A server that stores the draft, bumps its version on every save and refuses stale ones. */
function draftServer() {
  let stored = draft();
  const api = fakeApi({
    "POST /api/drafts": () => json(stored, 201),
    [`GET ${DRAFT_PATH}`]: () => json(stored),
    [`PATCH ${DRAFT_PATH}`]: (call: Call) => {
      const body = call.body as DraftUpdate;
      if (body.version !== undefined && body.version !== null && body.version < stored.version) {
        return problem(409, "draft_conflict");
      }
      const fields = withoutMeta(body);
      stored = { ...stored, ...fields, version: stored.version + 1 };
      return json(stored);
    },
    [`DELETE ${DRAFT_PATH}`]: () => noContent(),
  });
  vi.stubGlobal("fetch", api.fetch);
  return {
    api,
    patches: () => api.callsTo("PATCH", DRAFT_PATH).map((call) => call.body as DraftUpdate),
    /** Someone else saves (another tab): the stored draft moves on. */
    saveElsewhere: (patch: Partial<ReturnType<typeof draft>>) => {
      stored = { ...stored, ...patch, version: stored.version + 1 };
    },
  };
}

async function started(intent: ConstructorParameters<typeof ComposeSession>[0] = { kind: "new" }) {
  const session = new ComposeSession(intent);
  await session.start();
  return session;
}

describe("ComposeSession", () => {
  it("creates the draft with the reply's message, so the server fills it in", async () => {
    const api = fakeApi({
      "POST /api/drafts": () =>
        json(draft({ mode: "reply", subject: "Re: Plans", to: [{ name: "Ana", address: "ana@x.org" }], html: "<p></p><blockquote><p>Old</p></blockquote>" }), 201),
    });
    vi.stubGlobal("fetch", api.fetch);
    const session = await started({ kind: "reply", messageId: 42, mode: "reply_all" });
    expect(api.calls[0]?.body).toEqual({ mode: "reply_all", reply_to_message_id: 42 });
    const state = session.getState();
    expect(state.phase).toBe("ready");
    expect(state.subject).toBe("Re: Plans");
    expect(state.to).toEqual([{ name: "Ana", address: "ana@x.org", valid: true }]);
    expect(state.body.html).toContain("<blockquote>");
  });

  it("saves once typing pauses, with only what changed and the version it last saw", async () => {
    const server = draftServer();
    const session = await started();

    session.setSubject("H");
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS / 2);
    session.setSubject("Hello");
    session.setRecipients("to", parseRecipients("ana@x.org, not-an-address"));
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS - 1);
    expect(server.patches()).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(session.getState().save).toBe("saved"));
    // One save for the burst; the invalid chip stays on screen but never reaches the server.
    expect(server.patches()).toEqual([{ version: 1, subject: "Hello", to: [{ name: "", address: "ana@x.org" }] }]);
    expect(session.getState().to.map((chip) => chip.valid)).toEqual([true, false]);

    session.setSubject("Hello there");
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS);
    await vi.waitFor(() => expect(server.patches()).toHaveLength(2));
    expect(server.patches()[1]).toEqual({ version: 2, subject: "Hello there" });
  });

  it("reads the body from the editor at save time, with its plain text", async () => {
    const server = draftServer();
    const session = await started();
    session.attachBody(() => ({ html: "<p>Hi <strong>Bo</strong></p>", text: "Hi Bo" }));
    session.bodyChanged();
    await session.flush();
    expect(server.patches()).toEqual([{ version: 1, html: "<p>Hi <strong>Bo</strong></p>", text: "Hi Bo" }]);

    session.setPlain(true);
    await session.flush();
    expect(server.patches()[1]).toEqual({ version: 2, text: "Hi Bo", plain_text: true });
    expect(session.getState().body).toMatchObject({ html: null, text: "Hi Bo" });
  });

  it("loads the newer draft and says so when another window saved it meanwhile (409)", async () => {
    const server = draftServer();
    const session = await started();
    server.saveElsewhere({ subject: "Written elsewhere", version: 1 });
    session.setSubject("Mine");
    await session.flush();

    const state = session.getState();
    expect(server.patches()[0]).toMatchObject({ version: 1, subject: "Mine" });
    expect(state.subject).toBe("Written elsewhere");
    expect(state.notice).toMatch(/changed in another window/);
    expect(state.save).toBe("saved");
    // The next save builds on the version that was loaded.
    session.setSubject("Mine again");
    await session.flush();
    expect(server.patches().at(-1)).toEqual({ version: 2, subject: "Mine again" });
  });

  it("retries a save the network lost, with backoff, and keeps the words", async () => {
    let down = true;
    const server = draftServer();
    const healthy = server.api.fetch.getMockImplementation()!;
    server.api.fetch.mockImplementation(async (input, init) => {
      if (down && String(init?.method ?? (input as Request).method) === "PATCH") throw new TypeError("Failed to fetch");
      return healthy(input, init);
    });
    const session = await started();
    session.setSubject("Offline words");
    expect(await session.flush()).toBe(false);
    expect(session.getState().save).toBe("retrying");
    expect(session.hasUnsaved()).toBe(true);

    down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.waitFor(() => expect(session.getState().save).toBe("saved"));
    expect(server.patches().at(-1)).toEqual({ version: 1, subject: "Offline words" });
  });

  it("on close saves what is left first, and discards a draft nobody touched", async () => {
    const server = draftServer();
    const session = await started();
    session.setSubject("Last words");
    expect(await session.close()).toBe(true);
    expect(server.patches()).toEqual([{ version: 1, subject: "Last words" }]);
    expect(server.api.callsTo("DELETE", DRAFT_PATH)).toHaveLength(0);

    const untouched = await started();
    await untouched.close();
    expect(server.api.callsTo("DELETE", DRAFT_PATH)).toHaveLength(1);
  });

  it("refuses to send without recipients or with a bad address, naming the field", async () => {
    draftServer();
    const session = await started();
    expect(session.checkSendable()).toBe(false);
    expect(session.getState().errors.to).toBe("Add at least one recipient.");
    session.setRecipients("cc", parseRecipients("bo@"));
    session.setRecipients("to", parseRecipients("ana@x.org"));
    expect(session.checkSendable()).toBe(false);
    expect(session.getState().errors).toEqual({ cc: '"bo@" isn\'t an email address. Correct or remove it.' });
  });

  it("uploads with progress, and shows the server's words when the file is too large (413)", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const server = draftServer();
    const session = await started();
    const file = new File(["x".repeat(1000)], "plan.pdf", { type: "application/pdf" });
    session.addFiles([file]);
    await vi.waitFor(() => expect(FakeXhr.last).not.toBeNull());
    const xhr = FakeXhr.last!;
    expect(xhr.url).toMatch(new RegExp(`/api/drafts/${DRAFT_ID}/attachments$`));
    expect(xhr.headers.Authorization).toBe("Bearer access-1");
    expect((xhr.body?.get("file") as File).name).toBe("plan.pdf");

    xhr.progress(400, 1000);
    expect(session.getState().uploads).toMatchObject([{ name: "plan.pdf", loaded: 400, size: 1000, error: null }]);
    server.saveElsewhere({
      version: 1,
      attachments: [{ position: 0, filename: "plan.pdf", content_type: "application/pdf", size: 1000, is_inline: false, content_id: null }],
    });
    xhr.respond(201, { position: 0, filename: "plan.pdf", content_type: "application/pdf", size: 1000, is_inline: false, content_id: null });
    await vi.waitFor(() => expect(session.getState().uploads).toEqual([]));
    expect(session.getState().draft?.attachments.map((a) => a.filename)).toEqual(["plan.pdf"]);
    // The upload moved the draft's version on: the next save uses it rather than meeting a 409.
    await vi.waitFor(() => expect(session.getState().draft?.version).toBe(2));

    session.addFiles([new File(["y"], "huge.iso")]);
    await vi.waitFor(() => expect(FakeXhr.all).toHaveLength(2));
    FakeXhr.last!.respond(413, {
      type: "about:blank",
      title: "Payload Too Large",
      status: 413,
      code: "attachment_too_large",
      detail: "Attachments may add up to 25 MB; this one would make 31 MB.",
    });
    await vi.waitFor(() =>
      expect(session.getState().uploads).toMatchObject([
        { name: "huge.iso", error: "Attachments may add up to 25 MB; this one would make 31 MB." },
      ]),
    );
  });
});
