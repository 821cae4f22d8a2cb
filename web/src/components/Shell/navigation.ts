import ArchiveOutlined from "@mui/icons-material/ArchiveOutlined";
import AdminPanelSettingsOutlined from "@mui/icons-material/AdminPanelSettingsOutlined";
import DashboardOutlined from "@mui/icons-material/DashboardOutlined";
import DeleteOutline from "@mui/icons-material/DeleteOutlined";
import DraftsOutlined from "@mui/icons-material/DraftsOutlined";
import InboxOutlined from "@mui/icons-material/InboxOutlined";
import OutboxOutlined from "@mui/icons-material/OutboxOutlined";
import ReportGmailerrorredOutlined from "@mui/icons-material/ReportGmailerrorredOutlined";
import SendOutlined from "@mui/icons-material/SendOutlined";
import SettingsOutlined from "@mui/icons-material/SettingsOutlined";
import StarBorderOutlined from "@mui/icons-material/StarBorderOutlined";
import type { SvgIconComponent } from "@mui/icons-material";

import type { Folder, MailAccount } from "@/api/mail";
import { isPending, type DraftSummary, type OutboxEntry } from "@/api/outbox";
import { buildFolderTree, type FolderNode } from "@/components/Mail/folderTree";
import { DEFAULT_FOLDER, STARRED_QUERY, type MailLocation } from "@/components/Mail/location";

/** A page of its own (a statically exported route). */
export interface NavEntry {
  label: string;
  href: string;
  icon: SvgIconComponent;
}

/** A place in the mail view, across every mailbox. */
export interface MailEntry {
  label: string;
  icon: SvgIconComponent;
  location: Partial<MailLocation>;
  /**
   * The number beside it: unread mail or all mail in a role's folders, how many drafts there
   * are, or how many messages wait in the outbox (queued, sending or failed).
   */
  count?: { role: string; of: "unread" | "total" } | { of: "drafts" | "outbox" };
  /** Shown only while its count is above zero, or while it is open. */
  whileCounted?: boolean;
}

export const mailEntries: readonly MailEntry[] = [
  { label: "Inbox", icon: InboxOutlined, location: { folder: "inbox" }, count: { role: "inbox", of: "unread" } },
  { label: "Starred", icon: StarBorderOutlined, location: { q: STARRED_QUERY } },
  { label: "Sent", icon: SendOutlined, location: { folder: "sent" } },
  { label: "Drafts", icon: DraftsOutlined, location: { folder: "drafts" }, count: { of: "drafts" } },
  { label: "Outbox", icon: OutboxOutlined, location: { folder: "outbox" }, count: { of: "outbox" }, whileCounted: true },
  { label: "Archive", icon: ArchiveOutlined, location: { folder: "archive" } },
  { label: "Spam", icon: ReportGmailerrorredOutlined, location: { folder: "junk" }, count: { role: "junk", of: "unread" } },
  { label: "Trash", icon: DeleteOutline, location: { folder: "trash" } },
];

export const appEntries: readonly NavEntry[] = [
  { label: "Dashboard", href: "/dashboard/", icon: DashboardOutlined },
  { label: "Settings", href: "/settings/", icon: SettingsOutlined },
];

/** Shown to administrators only (the server refuses everyone else anyway). */
export const adminEntry: NavEntry = {
  label: "Administration",
  href: "/admin/",
  icon: AdminPanelSettingsOutlined,
};

/** Compare paths with and without the trailing slash the export adds. */
export function isActive(href: string, pathname: string | null): boolean {
  if (pathname === null) return false;
  const strip = (path: string) => (path.length > 1 ? path.replace(/\/+$/, "") : path);
  return strip(href) === strip(pathname);
}

/** Settings and its sub-pages all light up "Settings". */
export function isWithin(href: string, pathname: string | null): boolean {
  if (pathname === null || href === "/") return isActive(href, pathname);
  const base = href.replace(/\/+$/, "");
  return pathname === base || pathname.startsWith(`${base}/`);
}

/** Whether the mail view is at this entry's place (the open thread aside). */
export function isCurrentMail(entry: Partial<MailLocation>, current: MailLocation | null): boolean {
  if (current === null) return false;
  if (entry.q || current.q) return entry.q === current.q && (entry.account ?? undefined) === current.account;
  return (entry.folder ?? DEFAULT_FOLDER) === current.folder && (entry.account ?? undefined) === current.account;
}

/** The sum of a role's counters over every mailbox. */
export function roleCount(folders: readonly Folder[] | undefined, role: string, of: "unread" | "total"): number {
  if (!folders) return 0;
  return folders
    .filter((folder) => folder.role === role)
    .reduce((sum, folder) => sum + (of === "unread" ? folder.unread_count : folder.total_count), 0);
}

/** What the navigation counts. */
export interface CountSources {
  folders: readonly Folder[] | undefined;
  drafts: readonly DraftSummary[] | undefined;
  outbox: readonly OutboxEntry[] | undefined;
}

/** The number an entry shows, and whether it is bold (unread mail) or plain (a total). */
export function entryCount(entry: MailEntry, sources: CountSources): { value: number; kind: "unread" | "total" } {
  const count = entry.count;
  if (count === undefined) return { value: 0, kind: "unread" };
  if ("role" in count) return { value: roleCount(sources.folders, count.role, count.of), kind: count.of };
  if (count.of === "drafts") return { value: sources.drafts?.length ?? 0, kind: "total" };
  return { value: sources.outbox?.filter(isPending).length ?? 0, kind: "total" };
}

/** The roles the unified entries cover. */
const UNIFIED_ROLES: ReadonlySet<string> = new Set(["inbox", "sent", "drafts", "archive", "junk", "trash"]);

export interface MailboxSection {
  accountId: string;
  label: string;
  tree: FolderNode[];
}

/**
 * One section per mailbox with its folder tree. With a single mailbox the unified entries
 * above already lead to its special folders, so the tree leaves those out.
 */
export function mailboxSections(
  folders: readonly Folder[],
  accounts: readonly MailAccount[] | undefined,
): MailboxSection[] {
  const byAccount = new Map<string, Folder[]>();
  for (const folder of folders) {
    byAccount.set(folder.account_id, [...(byAccount.get(folder.account_id) ?? []), folder]);
  }
  // Mailboxes in the order the user added them; any the account list does not know yet last.
  const order = [
    ...(accounts ?? []).map((account) => account.id).filter((id) => byAccount.has(id)),
    ...[...byAccount.keys()].filter((id) => !accounts?.some((account) => account.id === id)),
  ];
  const several = order.length > 1;
  return order.map((accountId) => {
    const account = accounts?.find((candidate) => candidate.id === accountId);
    return {
      accountId,
      label: account ? account.display_name || account.email : "Mailbox",
      tree: buildFolderTree(byAccount.get(accountId) ?? [], { hideRoles: several ? undefined : UNIFIED_ROLES }),
    };
  });
}

/** Where a folder of the tree leads: its role in that mailbox, or the folder itself. */
export function folderLocation(folder: Folder): Partial<MailLocation> {
  return folder.role ? { folder: folder.role, account: folder.account_id } : { folder: folder.id };
}
