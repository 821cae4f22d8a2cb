/**
 * TanStack Query keys shared by every part of the app that reads or patches mail data: the
 * list, the thread view, the live WebSocket client and the notification centre all agree on
 * these, so an event can patch or invalidate exactly the caches that show what changed.
 */

/** Which threads a list shows: a folder (role or id), optionally one mailbox, or a search. */
export interface ThreadListParams {
  /** A role (`inbox`, `sent`, `drafts`, `trash`, `junk`, `archive`, `all`) or a folder id. */
  folder: string;
  /** One mailbox's id; absent for the unified view across every mailbox. */
  account?: string;
  /** A search query (`GET /api/search`); when set, `folder` is ignored by the server. */
  q?: string;
  /** One of the assistant's inbox sections (`section=` of `GET /api/threads`); absent for all. */
  section?: InboxSection;
}

/** The assistant's split of the inbox: Important, and everything else. */
export type InboxSection = "important" | "other";

export const mailKeys = {
  /** `GET /api/folders` for every mailbox: FolderOut[] */
  folders: ["folders"] as const,
  /** Every thread list (prefix for invalidation). */
  threadLists: ["threads"] as const,
  /** One thread list: an infinite query whose pages are ThreadPage. */
  threadList: (params: ThreadListParams) =>
    [
      "threads",
      { folder: params.folder, account: params.account ?? null, q: params.q ?? null, section: params.section ?? null },
    ] as const,
  /** `GET /api/threads/{id}`: ThreadDetail */
  thread: (id: string) => ["thread", id] as const,
  /** `GET /api/accounts`: AccountOut[] */
  accounts: ["accounts"] as const,
  /** `GET /api/notifications` */
  notifications: ["notifications"] as const,
  /** `GET /api/dashboard` */
  dashboard: ["dashboard"] as const,
};

/**
 * Compose keys (`api/compose.ts`, the composer, the Drafts and Outbox views). The live client
 * invalidates `outbox` and `drafts` on `outbox.updated`.
 */
export const composeKeys = {
  /** `GET /api/drafts`: DraftList */
  drafts: ["drafts"] as const,
  /** `GET /api/drafts/{id}`: DraftOut (not under `drafts`: invalidating the list leaves open drafts alone) */
  draft: (id: string) => ["draft", id] as const,
  /** `GET /api/outbox`: OutboxList */
  outbox: ["outbox"] as const,
  /** `GET /api/contacts?q=`: ContactOut[] */
  contacts: (q: string) => ["contacts", q] as const,
  /** `GET /api/accounts/{id}/identity`: IdentityOut */
  identity: (accountId: string) => ["identity", accountId] as const,
};

/** The assistant's keys (`api/ai.ts`); the live client invalidates them on `message.triaged`. */
export const aiKeys = {
  /** Every assistant query (prefix). */
  all: ["ai"] as const,
  /** `GET /api/ai/settings`: AiSettingsOut */
  settings: ["ai", "settings"] as const,
  /** `GET /api/ai/usage?days=`: UsageOut */
  usage: (days: number) => ["ai", "usage", days] as const,
  /** `GET /api/ai/overview`: AiOverview (the dashboard's widgets) */
  overview: ["ai", "overview"] as const,
  /** `GET /api/ai/threads/{id}/summary`: ThreadSummaryOut */
  summary: (threadId: string) => ["ai", "summary", threadId] as const,
};
