import type { Folder } from "./types";

/** Folder roles in the order people expect them, with the names they know them by. */
export const ROLE_ORDER = ["inbox", "drafts", "sent", "archive", "all", "junk", "trash"] as const;
const ROLE_LABELS: Record<string, string> = {
  inbox: "Inbox",
  drafts: "Drafts",
  sent: "Sent",
  archive: "Archive",
  all: "All mail",
  junk: "Spam",
  spam: "Spam",
  trash: "Trash",
};

export function roleLabel(role: string): string | undefined {
  return ROLE_LABELS[role];
}

export function folderLabel(folder: Pick<Folder, "role" | "display_name" | "name">): string {
  return (folder.role ? roleLabel(folder.role) : undefined) ?? (folder.display_name || folder.name);
}

/** What a folder shows beside its name: unread mail, or for drafts how many there are. */
export function folderCount(folder: Folder): number {
  if (folder.role === "drafts") return folder.total_count;
  if (folder.role === "sent" || folder.role === "trash" || folder.role === "all" || folder.role === "archive") return 0;
  return folder.unread_count;
}

export interface FolderNode {
  key: string;
  label: string;
  /** Null for a level of the path the server does not list as a folder of its own. */
  folder: Folder | null;
  children: FolderNode[];
}

function roleRank(node: FolderNode): number {
  const role = node.folder?.role;
  const rank = role ? ROLE_ORDER.indexOf(role as (typeof ROLE_ORDER)[number]) : -1;
  return rank < 0 ? ROLE_ORDER.length : rank;
}

function tidy(nodes: FolderNode[]): FolderNode[] {
  return nodes
    .map((node) => ({ ...node, children: tidy(node.children) }))
    .filter((node) => (node.folder?.selectable ?? false) || node.children.length > 0)
    .sort((a, b) => roleRank(a) - roleRank(b) || a.label.localeCompare(b.label));
}

function withoutRoles(nodes: FolderNode[], roles: ReadonlySet<string>): FolderNode[] {
  return nodes.flatMap((node) =>
    node.folder?.role && roles.has(node.folder.role)
      ? withoutRoles(node.children, roles)
      : [{ ...node, children: withoutRoles(node.children, roles) }],
  );
}

/**
 * One mailbox's folders as a tree, nested by the server's delimiter. Special folders come first
 * under their usual names; a container that only exists to hold them (Gmail's "[Gmail]") is
 * dissolved into the top level. Folders of the roles in `hideRoles` are left out (their
 * subfolders move up a level), for a tree shown under entries that already lead to them.
 */
export function buildFolderTree(
  folders: readonly Folder[],
  { hideRoles }: { hideRoles?: ReadonlySet<string> } = {},
): FolderNode[] {
  const root: FolderNode[] = [];
  const byPath = new Map<string, FolderNode>();
  const sorted = [...folders].sort((a, b) => a.name.localeCompare(b.name));
  for (const folder of sorted) {
    const parts = folder.delimiter ? folder.name.split(folder.delimiter).filter(Boolean) : [folder.name];
    let siblings = root;
    let path = `${folder.account_id}:`;
    parts.forEach((part, index) => {
      path = `${path}/${part}`;
      let node = byPath.get(path);
      if (!node) {
        node = { key: path, label: part, folder: null, children: [] };
        byPath.set(path, node);
        siblings.push(node);
      }
      if (index === parts.length - 1) {
        node.folder = folder;
        node.label = folderLabel(folder);
      }
      siblings = node.children;
    });
  }
  let top = root.flatMap((node) =>
    !node.folder?.selectable && !node.folder?.role && node.children.some((child) => child.folder?.role)
      ? node.children
      : [node],
  );
  if (hideRoles) top = withoutRoles(top, hideRoles);
  return tidy(top);
}

/** The tree in reading order with each node's depth, for menus. */
export function flattenTree(nodes: readonly FolderNode[], depth = 0): { node: FolderNode; depth: number }[] {
  return nodes.flatMap((node) => [{ node, depth }, ...flattenTree(node.children, depth + 1)]);
}
