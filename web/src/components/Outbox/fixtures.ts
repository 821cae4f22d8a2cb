import type { OutboxEntry } from "@/api/outbox";

/** Test data: an outbox entry, queued by default, sending 10 s after NOW. */

// Local times: the words are in the reader's zone. Sunday 4 January 2026, 14:00:00.
export const NOW = new Date(2026, 0, 4, 14, 0, 0);
export const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
export function entry(extra: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id: "o1",
    account_id: "acc-1",
    status: "queued",
    to: [{ name: "Ana Lima", address: "ana@example.com" }],
    cc: [],
    bcc: [],
    subject: "Lunch",
    message_id: "m1@example.com",
    thread_id: null,
    send_at: at(10_000),
    scheduled: false,
    attempts: 0,
    next_attempt_at: null,
    error_code: null,
    last_error: null,
    smtp_reply: null,
    sent_at: null,
    sent_copy: null,
    updated_at: NOW.toISOString(),
    ...extra,
  };
}

