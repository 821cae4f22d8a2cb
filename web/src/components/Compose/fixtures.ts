import type { Draft, DraftUpdate } from "@/api/compose";

/** Test data shaped like the server's answers (`/api/drafts…`). */

export const DRAFT_ID = "5f0c2b9e-1a7d-4c3e-9b8a-2d6e4f1a0c3b";
export const ACCOUNT_ID = "0b6a1f3e-8d2c-4a9b-b7e1-5c3d2a1f0e9b";

export function draft(overrides: Partial<Draft> = {}): Draft {
  return {
    id: DRAFT_ID,
    account_id: ACCOUNT_ID,
    status: "draft",
    mode: "new",
    from_address: "me@example.com",
    to: [],
    cc: [],
    bcc: [],
    subject: "",
    text: "",
    html: "",
    reply_to_message_id: null,
    forward_of_message_id: null,
    thread_id: null,
    in_reply_to: null,
    references: [],
    message_id: "m1@example.com",
    version: 1,
    attachments: [],
    send_at: null,
    error_code: null,
    last_error: null,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
    ...overrides,
    plain_text: overrides.plain_text ?? overrides.html === null,
  };
}

/** What a PATCH body changes in the stored draft (not its version or the plain-text flag). */
export function withoutMeta(body: DraftUpdate): Partial<Draft> {
  const fields: Record<string, unknown> = { ...body };
  delete fields.version;
  delete fields.plain_text;
  return fields as Partial<Draft>;
}

/** A stand-in for XMLHttpRequest whose upload progress and answer the test controls. */
export class FakeXhr {
  static last: FakeXhr | null = null;
  static all: FakeXhr[] = [];
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = "";
  withCredentials = false;
  upload: { onprogress: ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXhr.last = this;
    FakeXhr.all.push(this);
  }

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }

  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }

  getResponseHeader() {
    return null;
  }

  send(body: FormData) {
    this.body = body;
  }

  abort() {
    this.onabort?.();
  }

  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }

  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }

  static reset() {
    FakeXhr.last = null;
    FakeXhr.all = [];
  }
}
