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
}

export const mailKeys = {
  /** `GET /api/folders` for every mailbox: FolderOut[] */
  folders: ["folders"] as const,
  /** Every thread list (prefix for invalidation). */
  threadLists: ["threads"] as const,
  /** One thread list: an infinite query whose pages are ThreadPage. */
  threadList: (params: ThreadListParams) =>
    ["threads", { folder: params.folder, account: params.account ?? null, q: params.q ?? null }] as const,
  /** `GET /api/threads/{id}`: ThreadDetail */
  thread: (id: string) => ["thread", id] as const,
  /** `GET /api/accounts`: AccountOut[] */
  accounts: ["accounts"] as const,
  /** `GET /api/notifications` */
  notifications: ["notifications"] as const,
  /** `GET /api/dashboard` */
  dashboard: ["dashboard"] as const,
};
