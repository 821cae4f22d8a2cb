import { describe, expect, it } from "vitest";

import { buildFolderTree, flattenTree } from "./folderTree";
import type { Folder } from "./types";

function folder(name: string, extra: Partial<Folder> = {}): Folder {
  return {
    id: `id-${name}`,
    account_id: "acc",
    name,
    display_name: name.split("/").pop() ?? name,
    delimiter: "/",
    role: null,
    selectable: true,
    total_count: 0,
    unread_count: 0,
    ...extra,
  };
}

const outline = (folders: Folder[], options?: Parameters<typeof buildFolderTree>[1]) =>
  flattenTree(buildFolderTree(folders, options)).map(({ node, depth }) => `${"  ".repeat(depth)}${node.label}`);

describe("buildFolderTree", () => {
  it("nests by the delimiter, special folders first under their usual names", () => {
    const folders = [
      folder("Work/Clients"),
      folder("Work"),
      folder("INBOX", { role: "inbox" }),
      folder("Junk", { role: "junk" }),
      folder("Sent Items", { role: "sent" }),
      folder("Archive/2024"),
    ];
    expect(outline(folders)).toEqual(["Inbox", "Sent", "Spam", "Archive", "  2024", "Work", "  Clients"]);
  });

  it("dissolves a container that only holds special folders ([Gmail])", () => {
    const folders = [
      folder("INBOX", { role: "inbox" }),
      folder("[Gmail]", { selectable: false }),
      folder("[Gmail]/All Mail", { role: "all" }),
      folder("[Gmail]/Sent Mail", { role: "sent" }),
      folder("[Gmail]/Important"),
      folder("Receipts"),
    ];
    expect(outline(folders)).toEqual(["Inbox", "Sent", "All mail", "Important", "Receipts"]);
  });

  it("leaves out hidden roles and lifts their subfolders a level", () => {
    const folders = [folder("INBOX", { role: "inbox" }), folder("INBOX/Clients"), folder("Trash", { role: "trash" })];
    expect(outline(folders, { hideRoles: new Set(["inbox", "trash"]) })).toEqual(["Clients"]);
  });

  it("drops levels that hold nothing selectable", () => {
    expect(outline([folder("Empty", { selectable: false })])).toEqual([]);
  });
});
