import type { Account } from "@/api/accounts";

/** A connected IMAP mailbox as `GET /api/accounts` lists it, for the component tests. */
export const ACCOUNT: Account = {
  id: "acc-1",
  kind: "imap",
  email: "ada@example.com",
  display_name: "",
  username: "ada@example.com",
  imap_host: "imap.example.com",
  imap_port: 993,
  imap_security: "ssl",
  smtp_host: "smtp.example.com",
  smtp_port: 465,
  smtp_security: "ssl",
  sync_window_days: 90,
  sync_state: "idle",
  last_error: null,
  last_error_code: null,
  last_synced_at: new Date(Date.now() - 5 * 60_000).toISOString(),
  created_at: "2026-01-01T10:00:00Z",
  is_demo: false,
  counts: { folders: 6, messages: 1234, unread: 12 },
};
