import { chipOfQuery } from "@/components/Assistant/categories";

import { folderLabel, roleLabel } from "./folderTree";
import { STARRED_QUERY, type MailLocation } from "./location";
import type { Folder, MailAccount } from "./types";

/** The name of what the list shows: "Inbox", "Starred", "Work", "Search results". */
export function viewTitle(
  location: MailLocation,
  folders: readonly Folder[] | undefined,
  accounts: readonly MailAccount[] | undefined,
): string {
  let title: string;
  const chip = chipOfQuery(location.q);
  if (location.q === STARRED_QUERY) title = "Starred";
  else if (chip) title = chip.label;
  else if (location.q) title = "Search results";
  else {
    const folder = folders?.find((candidate) => candidate.id === location.folder);
    title = folder ? folderLabel(folder) : (roleLabel(location.folder) ?? "Folder");
  }
  const account = location.account ? accounts?.find((candidate) => candidate.id === location.account) : undefined;
  return account ? `${title} · ${account.display_name || account.email}` : title;
}

/** Unread messages in the inbox (every mailbox's, or one's), as the folder counters say. */
export function inboxUnread(folders: readonly Folder[] | undefined, account?: string): number {
  if (!folders) return 0;
  return folders
    .filter((folder) => folder.role === "inbox" && (!account || folder.account_id === account))
    .reduce((sum, folder) => sum + folder.unread_count, 0);
}

/** The tab title: "Inbox (12) — Postwise"; other views by name. */
export function tabTitle(location: MailLocation, title: string, folders: readonly Folder[] | undefined): string {
  const isInbox = !location.q && location.folder === "inbox";
  const unread = isInbox ? inboxUnread(folders, location.account) : 0;
  return `${title}${unread > 0 ? ` (${unread.toLocaleString()})` : ""} — Postwise`;
}

/** The folder id a location's list is (for hiding its own label chip); undefined for roles and search. */
export function currentFolderId(location: MailLocation, folders: readonly Folder[] | undefined): string {
  return folders?.some((folder) => folder.id === location.folder) ? location.folder : "";
}
