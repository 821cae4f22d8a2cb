import type { QueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/api/client";
import { mailKeys } from "@/api/keys";
import type { components } from "@/api/schema";
import { userKeys, type User } from "@/api/users";

type ThreadSummary = components["schemas"]["ThreadSummary"];
type Folder = components["schemas"]["FolderOut"];

export interface NewMailEvent {
  account_id: string;
  folder_id: string;
  message_ids: number[];
}

/** One tag: a newer notification replaces the last instead of stacking up. */
const TAG = "postwise-new-mail";
/**
 * Mail older than this is not news: the sync engine also announces mail it backfills and an
 * import announces what it stores, and neither should ring.
 */
const FRESH_MS = 15 * 60 * 1000;
/** Threads already announced (id and newest message time), so a repeated event stays quiet. */
const announced = new Set<string>();

/** Whether this browser can show notifications at all, and whether it may. */
export function desktopPermission(): NotificationPermission | "unsupported" {
  return typeof window !== "undefined" && "Notification" in window ? Notification.permission : "unsupported";
}

const permissionListeners = new Set<() => void>();

/**
 * Follow changes of the permission (for useSyncExternalStore): the browser reports those made
 * in its site settings, and `requestDesktopPermission` reports the user's answer.
 */
export function subscribePermission(listener: () => void): () => void {
  permissionListeners.add(listener);
  let status: PermissionStatus | undefined;
  let closed = false;
  if (typeof navigator !== "undefined" && "permissions" in navigator) {
    navigator.permissions
      .query({ name: "notifications" })
      .then((found) => {
        if (closed) return;
        status = found;
        status.addEventListener("change", listener);
      })
      .catch(() => {
        // Not every browser can query this permission; the user's answer is still reported.
      });
  }
  return () => {
    closed = true;
    permissionListeners.delete(listener);
    status?.removeEventListener("change", listener);
  };
}

/** Ask the browser (it shows its own prompt, once); a refusal is remembered by the browser. */
export async function requestDesktopPermission(): Promise<NotificationPermission> {
  try {
    return await Notification.requestPermission();
  } finally {
    for (const listener of permissionListeners) listener();
  }
}

/** The folder's role from whichever cached folder list knows it; undefined when none does. */
function folderRole(queryClient: QueryClient, folderId: string): string | null | undefined {
  for (const [, folders] of queryClient.getQueriesData<Folder[]>({ queryKey: mailKeys.folders })) {
    const found = Array.isArray(folders) ? folders.find((folder) => folder.id === folderId) : undefined;
    if (found) return found.role;
  }
  return undefined;
}

async function newestThread(data: NewMailEvent): Promise<ThreadSummary | undefined> {
  const page = unwrap(
    await api.GET("/api/threads", {
      params: { query: { folder: data.folder_id, account_id: data.account_id, limit: 1 } },
    }),
  );
  return page.items[0];
}

/** The newest thread of the inbox's Important section, across every mailbox. */
async function newestImportantThread(): Promise<ThreadSummary | undefined> {
  const page = unwrap(
    await api.GET("/api/threads", { params: { query: { folder: "inbox", section: "important", limit: 1 } } }),
  );
  return page.items[0];
}

function sender(thread: ThreadSummary): string {
  const last = thread.participants[thread.participants.length - 1];
  return last ? last.name || last.address : "New mail";
}

function show(title: string, options: NotificationOptions, path: string): void {
  const notification = new Notification(title, { ...options, tag: TAG });
  notification.onclick = () => {
    window.focus();
    // The app router follows history changes made outside it, without a reload.
    window.history.pushState(null, "", path);
    notification.close();
  };
}

/** Which mail rings, when this browser may ring at all and the page is out of sight. */
async function wanted(queryClient: QueryClient): Promise<User["new_mail_notifications"] | null> {
  if (desktopPermission() !== "granted" || document.visibilityState === "visible") return null;
  const me = await queryClient.ensureQueryData<User>({
    queryKey: userKeys.me,
    queryFn: async () => unwrap(await api.GET("/api/users/me")),
  });
  return me.new_mail_notifications;
}

/** Name the thread's sender and subject, once per newest message; clicking opens it. */
function announce(thread: ThreadSummary | undefined): void {
  if (!thread || !thread.unread) return;
  if (Date.now() - new Date(thread.last_message_at).getTime() > FRESH_MS) return;
  const key = `${thread.id}@${thread.last_message_at}`;
  if (announced.has(key)) return;
  if (announced.size > 500) announced.clear();
  announced.add(key);
  show(sender(thread), { body: thread.subject || "(no subject)" }, `/?thread=${encodeURIComponent(thread.id)}`);
}

async function raise(queryClient: QueryClient, data: NewMailEvent): Promise<void> {
  if (data.message_ids.length === 0) return;
  if ((await wanted(queryClient)) !== "all") return;
  const role = folderRole(queryClient, data.folder_id);
  // Mail the user sent, drafted, binned or that went to spam is not news; unknown: ring.
  if (role !== undefined && role !== "inbox") return;
  let thread: ThreadSummary | undefined;
  try {
    thread = await newestThread(data);
  } catch {
    show("New mail", { body: "" }, "/");
    return;
  }
  announce(thread);
}

async function raiseImportant(queryClient: QueryClient, messageIds: readonly number[]): Promise<void> {
  if (messageIds.length === 0) return;
  if ((await wanted(queryClient)) !== "important") return;
  let thread: ThreadSummary | undefined;
  try {
    thread = await newestImportantThread();
  } catch {
    show("Important mail", { body: "" }, "/");
    return;
  }
  announce(thread);
}

/**
 * Called by the live socket on `message.created`: raises a desktop notification when the user
 * chose "all new mail", this browser allows it and the page is not in view. It names the
 * sender and subject of the newest thread of the folder; clicking it opens that thread.
 */
export function onNewMail(queryClient: QueryClient, data: NewMailEvent): void {
  raise(queryClient, data).catch(() => {
    // A notification is a courtesy: failing to raise one must not disturb the socket.
  });
}

/**
 * Called by the live socket on `message.triaged` with the messages the assistant (or the user)
 * found important: with "important mail only" chosen, it rings for the newest important thread
 * of the inbox, as `onNewMail` does for all new mail.
 */
export function onImportantMail(queryClient: QueryClient, messageIds: readonly number[]): void {
  raiseImportant(queryClient, messageIds).catch(() => {
    // As for new mail: a notification that cannot be raised is let go.
  });
}

/** For tests: forget which threads were announced. */
export function resetAnnounced(): void {
  announced.clear();
}
