"use client";

import FolderOutlined from "@mui/icons-material/FolderOutlined";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import { useMemo } from "react";

import { buildFolderTree, flattenTree } from "./folderTree";
import type { Folder } from "./types";

interface MoveToMenuProps {
  id?: string;
  anchorEl?: HTMLElement | null;
  anchorPosition?: { top: number; left: number };
  open: boolean;
  /** The folders of the one mailbox the threads belong to. */
  folders: readonly Folder[];
  /** Folders the threads are already in, left out. */
  exclude?: ReadonlySet<string>;
  onChoose: (folderId: string) => void;
  onClose: () => void;
}

/** "Move to…": the mailbox's folders as an indented tree. */
export function MoveToMenu({ id, anchorEl, anchorPosition, open, folders, exclude, onChoose, onClose }: MoveToMenuProps) {
  const entries = useMemo(() => flattenTree(buildFolderTree(folders)), [folders]);
  return (
    <Menu
      id={id}
      open={open}
      onClose={onClose}
      anchorEl={anchorEl}
      anchorReference={anchorPosition ? "anchorPosition" : "anchorEl"}
      anchorPosition={anchorPosition}
      slotProps={{ list: { "aria-label": "Move to folder", dense: true }, paper: { sx: { maxHeight: 420, minWidth: 220 } } }}
    >
      {entries.map(({ node, depth }) => {
        const folder = node.folder;
        const usable = folder !== null && folder.selectable && !exclude?.has(folder.id);
        return (
          <MenuItem
            key={node.key}
            disabled={!usable}
            onClick={() => {
              if (!folder) return;
              onChoose(folder.id);
              onClose();
            }}
            sx={{ pl: 2 + depth * 2 }}
          >
            <ListItemIcon>
              <FolderOutlined fontSize="small" />
            </ListItemIcon>
            <ListItemText primary={node.label} />
          </MenuItem>
        );
      })}
    </Menu>
  );
}
