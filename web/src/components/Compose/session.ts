import { ApiError } from "@/api/client";
import {
  cancelSend,
  createDraft,
  deleteAttachment,
  deleteDraft,
  fetchDraft,
  sendDraft,
  updateDraft,
  uploadAttachment,
  type Draft,
  type DraftUpdate,
  type OutboxEntry,
} from "@/api/compose";
import { errorMessage, problemCode } from "@/api/problem";

import { htmlToText, textToHtml } from "./bodyText";
import { composeErrors, isTransient, type ComposeErrors, type ComposeField } from "./problems";
import { chipsOf, recipientsOf, type RecipientChip, type RecipientField } from "./recipients";
import { content, copyOf, createBody, emptyState, sendBlockers, uploadError, without } from "./sessionParts";
import type { Body, BodySource, ComposeIntent, SessionListener, SessionState, Upload } from "./sessionTypes";

export type { Body, BodySource, ComposeIntent, SaveStatus, SessionListener, SessionState, Upload } from "./sessionTypes";

/**
 * One compose window's draft, outside React: the window may move (inline in a thread, floating,
 * minimised) and remount without losing a keystroke. Every change is saved to the server
 * (`PATCH /api/drafts/{id}` with the version last seen) once typing pauses, saves never overlap,
 * network failures are retried with backoff, and a newer save made elsewhere wins with a word
 * to the user (409 `draft_conflict`).
 */

type Dirty = "from" | RecipientField | "subject" | "body" | "plain";

/** Quiet time after the last keystroke before a save. */
export const SAVE_DELAY_MS = 800;
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

let uploadCounter = 0;

export class ComposeSession {
  readonly intent: ComposeIntent;
  private state: SessionState;
  private readonly listeners = new Set<() => void>();
  private readonly dirty = new Set<Dirty>();
  /** The draft as the server last answered it: its version, and the content a conflict compares. */
  private base: Draft | null = null;
  private created: Promise<void> | null = null;
  /** Saves, refreshes and sends run one after another, in order. */
  private chain: Promise<unknown> = Promise.resolve();
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private bodySource: BodySource | null = null;
  private readonly controllers = new Map<string, AbortController>();
  private createdHere = false;
  private disposed = false;

  private readonly listener: SessionListener;

  constructor(intent: ComposeIntent, listener: SessionListener = {}) {
    this.intent = intent;
    this.listener = listener;
    this.state = emptyState(intent);
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
  }

  // -- React ---------------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getState = (): SessionState => this.state;

  private set(patch: Partial<SessionState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }

  /** The draft's id once it exists. */
  get draftId(): string | null {
    return this.base?.id ?? (this.intent.kind === "draft" ? this.intent.draftId : null);
  }

  /** Changes not yet on the server (or on their way there). */
  hasUnsaved(): boolean {
    return this.dirty.size > 0 || this.state.save === "saving" || this.state.save === "retrying";
  }

  // -- Loading ---------------------------------------------------------------------------------

  /** Create the draft (or load it); safe to call more than once. */
  start(): Promise<void> {
    this.created ??= this.load();
    return this.created;
  }

  /** After a failed start: try again. */
  retryStart(): Promise<void> {
    if (this.state.phase !== "failed") return this.start();
    this.set({ phase: "creating", loadError: null });
    this.created = this.load();
    return this.created;
  }

  private async load(): Promise<void> {
    try {
      let draft: Draft;
      if (this.intent.kind === "draft") {
        draft = this.intent.draft ?? (await fetchDraft(this.intent.draftId));
      } else {
        draft = await createDraft(createBody(this.intent));
        this.createdHere = true;
      }
      if (this.disposed) {
        if (this.createdHere && !this.state.touched) void this.remove(draft.id);
        return;
      }
      this.adoptAll(draft, true);
      this.set({ phase: draft.status === "queued" || draft.status === "sending" ? "locked" : "ready" });
      if (draft.status === "queued" || draft.status === "sending") {
        this.set({ notice: "This message is waiting in the Outbox. Undo the send to change it." });
      } else if (draft.status === "failed") {
        const reason = draft.last_error ? `: ${draft.last_error}` : ".";
        this.set({ notice: `This message couldn't be sent${reason} Check it and send it again.` });
      }
      if (this.dirty.size > 0) this.schedule(0);
    } catch (error) {
      this.set({ phase: "failed", loadError: errorMessage(error) });
    }
  }

  /** Take the server's draft; with `keepLocal`, fields the user changed meanwhile stay theirs. */
  private adoptAll(draft: Draft, keepLocal: boolean): void {
    this.base = draft;
    this.listener.onSaved?.(draft);
    const keep = (field: Dirty) => keepLocal && this.dirty.has(field);
    const plain = draft.html === null && draft.text.trim() !== "";
    const keepBody = keep("body") || keep("plain");
    this.set({
      draft,
      from: keep("from") ? this.state.from : draft.from_address,
      to: keep("to") ? this.state.to : chipsOf(draft.to),
      cc: keep("cc") ? this.state.cc : chipsOf(draft.cc),
      bcc: keep("bcc") ? this.state.bcc : chipsOf(draft.bcc),
      subject: keep("subject") ? this.state.subject : draft.subject,
      plain: keepBody ? this.state.plain : plain,
      body: keepBody
        ? this.state.body
        : {
            html: plain ? null : (draft.html ?? textToHtml(draft.text)),
            text: draft.text,
            revision: this.state.body.revision + 1,
          },
    });
  }

  /** Take the server's version and attachments, leaving what the user writes alone. */
  private adoptMeta(draft: Draft): void {
    if (this.base !== null && draft.version < this.base.version) return;
    this.base = draft;
    this.listener.onSaved?.(draft);
    this.set({ draft });
  }

  // -- Editing ---------------------------------------------------------------------------------

  private change(field: Dirty, patch: Partial<SessionState>, errors: (ComposeField | "form")[]): void {
    if (this.state.phase === "locked") return;
    this.dirty.add(field);
    this.set({ ...patch, touched: true, errors: without(this.state.errors, ...errors, "form") });
    this.schedule(SAVE_DELAY_MS);
  }

  setRecipients(field: RecipientField, chips: RecipientChip[]): void {
    const before = JSON.stringify(recipientsOf(this.state[field]));
    const saves = before !== JSON.stringify(recipientsOf(chips));
    if (!saves) {
      // Only an invalid chip came or went: nothing for the server.
      this.set({ [field]: chips, touched: true, errors: without(this.state.errors, field) });
      return;
    }
    this.change(field, { [field]: chips }, [field]);
  }

  setSubject(subject: string): void {
    this.change("subject", { subject }, ["subject"]);
  }

  setFrom(address: string): void {
    this.change("from", { from: address }, ["from"]);
  }

  /**
   * Send from another mailbox. A draft belongs to one mailbox, so the words move to a new draft
   * there and the old one goes (files stay behind: the form offers this only without them).
   */
  async moveTo(accountId: string, fromAddress: string): Promise<void> {
    const old = this.base;
    if (old === null || old.account_id === accountId) return this.setFrom(fromAddress);
    await this.flush();
    const state = this.state;
    try {
      const draft = await createDraft(copyOf(state, this.readBody(), old, { accountId, fromAddress }));
      void this.remove(old.id);
      this.base = draft;
      this.listener.onSaved?.(draft);
      this.createdHere = true;
      this.set({ draft, from: draft.from_address, touched: true, errors: without(this.state.errors, "from") });
      if (state.plain) {
        this.dirty.add("plain");
        this.schedule(0);
      }
    } catch (error) {
      this.set({ errors: { ...this.state.errors, from: errorMessage(error) } });
    }
  }

  /** The editor says the body changed; it is read when the save happens. */
  bodyChanged(): void {
    this.change("body", {}, ["body"]);
  }

  /** Plain text or formatted: the body is converted and the editor starts over from it. */
  setPlain(plain: boolean): void {
    if (plain === this.state.plain) return;
    const current = this.readBody();
    const body: Body = plain
      ? { html: null, text: current.html !== null ? htmlToText(current.html) : current.text, revision: this.state.body.revision + 1 }
      : { html: textToHtml(current.text), text: current.text, revision: this.state.body.revision + 1 };
    this.dirty.add("body");
    this.change("plain", { plain, body }, ["body"]);
  }

  /** The mounted editor, read at save time (serialising on every keystroke would be waste). */
  attachBody(source: BodySource): () => void {
    this.bodySource = source;
    return () => {
      if (this.bodySource !== source) return;
      // The editor is going (the window moves or closes): keep what it holds for the next one.
      try {
        const { html, text } = source();
        this.state = { ...this.state, body: { html, text, revision: this.state.body.revision } };
      } catch {
        // Already torn down: the body last saved stays.
      }
      this.bodySource = null;
    };
  }

  private readBody(): { html: string | null; text: string } {
    if (this.bodySource) return this.bodySource();
    return { html: this.state.body.html, text: this.state.body.text };
  }

  setErrors(errors: ComposeErrors): void {
    this.set({ errors });
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  // -- Saving ----------------------------------------------------------------------------------

  private schedule(delay: number): void {
    if (this.disposed) return;
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.flush();
    }, delay);
  }

  private onOnline = (): void => {
    if (this.state.save === "retrying") void this.flush();
  };

  /** Save everything now. True when nothing is left unsaved. */
  flush(): Promise<boolean> {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    return this.enqueue(() => this.saveAll());
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async saveAll(): Promise<boolean> {
    await this.start();
    if (this.state.phase === "locked") return true;
    if (this.state.phase !== "ready") return this.dirty.size === 0;
    while (this.dirty.size > 0) {
      if (!(await this.saveOnce())) return false;
    }
    return true;
  }

  private patchBody(fields: readonly Dirty[]): DraftUpdate {
    const body: DraftUpdate = { version: this.base?.version ?? null };
    const state = this.state;
    if (fields.includes("from")) body.from_address = state.from;
    if (fields.includes("to")) body.to = recipientsOf(state.to);
    if (fields.includes("cc")) body.cc = recipientsOf(state.cc);
    if (fields.includes("bcc")) body.bcc = recipientsOf(state.bcc);
    if (fields.includes("subject")) body.subject = state.subject;
    if (fields.includes("body") || fields.includes("plain")) {
      const { html, text } = this.readBody();
      body.text = text;
      if (state.plain) body.plain_text = true;
      else {
        body.html = html;
        if (fields.includes("plain")) body.plain_text = false;
      }
    }
    return body;
  }

  private async saveOnce(): Promise<boolean> {
    const id = this.draftId;
    if (id === null) return false;
    const fields = [...this.dirty];
    this.dirty.clear();
    this.set({ save: "saving" });
    try {
      const draft = await updateDraft(id, this.patchBody(fields));
      this.adoptMeta(draft);
      this.failures = 0;
      this.set({ save: this.dirty.size > 0 ? "saving" : "saved" });
      return true;
    } catch (error) {
      for (const field of fields) this.dirty.add(field);
      return this.saveFailed(error);
    }
  }

  private async saveFailed(error: unknown): Promise<boolean> {
    const code = problemCode(error);
    if (code === "draft_conflict") return this.resolveConflict();
    if (code === "draft_not_editable") {
      this.dirty.clear();
      this.set({
        phase: "locked",
        save: "idle",
        notice: "This message is already in the Outbox. Undo the send to change it.",
      });
      return true;
    }
    if (error instanceof ApiError && error.status === 404) return this.recreate();
    if (isTransient(error)) {
      const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)] ?? 30_000;
      this.failures += 1;
      this.set({ save: "retrying" });
      if (!this.disposed) this.retryTimer = setTimeout(() => void this.flush(), delay);
      return false;
    }
    // Refused as it is (a field the server will not take): say where, and wait for the next edit.
    this.set({ save: "failed", errors: { ...this.state.errors, ...composeErrors(error) } });
    return false;
  }

  /**
   * A save was refused because the server holds a newer version. When only the version moved
   * (an attachment was added meanwhile) the save is retried on top; when the content differs,
   * another window saved it, and its version is shown.
   */
  private async resolveConflict(): Promise<boolean> {
    const id = this.draftId;
    if (id === null) return false;
    let server: Draft;
    try {
      server = await fetchDraft(id);
    } catch (error) {
      return this.saveFailed(error);
    }
    if (this.base !== null && content(server) === content(this.base)) {
      this.adoptMeta(server);
      return true;
    }
    this.dirty.clear();
    this.adoptAll(server, false);
    this.set({
      save: "saved",
      notice: "This draft was changed in another window, so it now shows the version saved there.",
    });
    return true;
  }

  /** The draft was deleted elsewhere while open here: keep the words by saving them anew. */
  private async recreate(): Promise<boolean> {
    const state = this.state;
    try {
      const draft = await createDraft(copyOf(state, this.readBody(), this.base, {}));
      this.dirty.clear();
      if (state.plain) this.dirty.add("plain");
      this.adoptMeta(draft);
      this.createdHere = true;
      this.set({ save: "saved", notice: "This draft was deleted elsewhere, so it was saved again as a new one." });
      return true;
    } catch (error) {
      return this.saveFailed(error);
    }
  }

  /** Read the server's draft for its version and attachments (after an upload, say). */
  private refreshMeta(): Promise<void> {
    return this.enqueue(async () => {
      const id = this.draftId;
      if (id === null || this.disposed) return;
      try {
        this.adoptMeta(await fetchDraft(id));
      } catch {
        // The next save finds out about the version through a conflict; nothing is lost.
      }
    });
  }

  // -- Attachments -----------------------------------------------------------------------------

  addFiles(files: readonly File[], inline = false): void {
    if (files.length === 0 || this.state.phase === "locked") return;
    const uploads = files.map((file) => ({
      id: `upload-${++uploadCounter}`,
      name: file.name,
      size: file.size,
      loaded: 0,
      error: null,
    }));
    this.set({ uploads: [...this.state.uploads, ...uploads], touched: true, errors: without(this.state.errors, "attachments") });
    files.forEach((file, index) => void this.upload(uploads[index]!.id, file, inline));
  }

  private patchUpload(id: string, patch: Partial<Upload> | null): void {
    const uploads =
      patch === null
        ? this.state.uploads.filter((upload) => upload.id !== id)
        : this.state.uploads.map((upload) => (upload.id === id ? { ...upload, ...patch } : upload));
    this.set({ uploads });
  }

  private async upload(id: string, file: File, inline: boolean): Promise<void> {
    await this.start();
    const draftId = this.draftId;
    if (draftId === null || this.state.phase !== "ready") {
      this.patchUpload(id, { error: "The draft isn't ready, so the file couldn't be attached." });
      return;
    }
    const controller = new AbortController();
    this.controllers.set(id, controller);
    try {
      const attachment = await uploadAttachment(draftId, file, {
        inline,
        signal: controller.signal,
        onProgress: (loaded) => this.patchUpload(id, { loaded }),
      });
      this.patchUpload(id, null);
      const draft = this.state.draft;
      if (draft !== null) {
        const attachments = [...draft.attachments.filter((a) => a.position !== attachment.position), attachment];
        this.set({ draft: { ...draft, attachments: attachments.sort((a, b) => a.position - b.position) } });
      }
      await this.refreshMeta();
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") this.patchUpload(id, null);
      else this.patchUpload(id, { error: uploadError(error) });
    } finally {
      this.controllers.delete(id);
    }
  }

  /** Stop an upload, or put away one that failed. */
  cancelUpload(id: string): void {
    const controller = this.controllers.get(id);
    if (controller) controller.abort();
    else this.patchUpload(id, null);
  }

  async removeAttachment(position: number): Promise<void> {
    const draft = this.state.draft;
    const id = this.draftId;
    if (draft === null || id === null) return;
    this.set({ draft: { ...draft, attachments: draft.attachments.filter((a) => a.position !== position) }, touched: true });
    try {
      await deleteAttachment(id, position);
    } catch (error) {
      this.set({ errors: { ...this.state.errors, attachments: `Couldn't remove the file. ${errorMessage(error)}` } });
    }
    await this.refreshMeta();
  }

  // -- Sending ---------------------------------------------------------------------------------

  /** What stops a send before it starts, shown next to the fields; true when there is nothing. */
  checkSendable(): boolean {
    const errors = sendBlockers(this.state);
    this.set({ errors });
    return Object.keys(errors).length === 0;
  }

  /**
   * Save what is left, then hand the draft to the outbox. A refusal is spread over the fields
   * it names (the window shows them) and thrown again.
   */
  async send(sendAt: string | null = null): Promise<OutboxEntry> {
    const saved = await this.flush();
    if (!saved) {
      const error = new Error("The draft couldn't be saved, so it wasn't sent. Check your connection and try again.");
      this.set({ errors: { ...this.state.errors, form: error.message } });
      throw error;
    }
    return this.enqueue(async () => {
      const id = this.draftId;
      if (id === null) throw new Error("The draft doesn't exist.");
      try {
        const entry = await sendDraft({ id, sendAt, version: this.base?.version ?? null });
        this.dispose();
        return entry;
      } catch (error) {
        if (problemCode(error) === "draft_conflict") await this.resolveConflict();
        this.set({ errors: composeErrors(error) });
        throw error;
      }
    });
  }

  /** Undo a send of this draft from the locked state ("waiting in the Outbox"). */
  async unlock(): Promise<void> {
    const id = this.draftId;
    if (id === null) return;
    try {
      const draft = await cancelSend(id);
      this.adoptAll(draft, false);
      this.set({ phase: "ready", notice: null });
    } catch (error) {
      this.set({ errors: { form: errorMessage(error, { already_sent: "Too late: the message has already left." }) } });
    }
  }

  // -- Closing ---------------------------------------------------------------------------------

  /** Close the window: save first; an untouched new draft is not kept. True when nothing is lost. */
  async close(): Promise<boolean> {
    if (!this.state.touched && (this.createdHere || this.intent.kind !== "draft")) {
      await this.discard();
      return true;
    }
    const saved = await this.flush();
    if (saved) this.dispose();
    return saved;
  }

  /** Throw the draft away (the user asked to). */
  async discard(): Promise<void> {
    this.dispose();
    for (const controller of this.controllers.values()) controller.abort();
    await this.created?.catch(() => undefined);
    const id = this.base?.id;
    if (id !== undefined) await this.remove(id);
  }

  private async remove(id: string): Promise<void> {
    try {
      await deleteDraft(id);
      this.listener.onDeleted?.(id);
    } catch {
      // Still listed in Drafts, where the user can delete it again.
    }
  }

  dispose(): void {
    this.disposed = true;
    this.dirty.clear();
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.saveTimer = null;
    this.retryTimer = null;
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
  }
}
