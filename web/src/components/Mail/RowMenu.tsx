"use client";

import ArchiveOutlined from "@mui/icons-material/ArchiveOutlined";
import DeleteOutline from "@mui/icons-material/DeleteOutlined";
import DraftsOutlined from "@mui/icons-material/DraftsOutlined";
import DriveFileMoveOutlined from "@mui/icons-material/DriveFileMoveOutlined";
import MarkEmailUnreadOutlined from "@mui/icons-material/MarkEmailUnreadOutlined";
import OpenInNew from "@mui/icons-material/OpenInNew";
import ReportGmailerrorredOutlined from "@mui/icons-material/ReportGmailerrorredOutlined";
import Star from "@mui/icons-material/Star";
import StarBorder from "@mui/icons-material/StarBorder";
import Divider from "@mui/material/Divider";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import { lazy, Suspense, useState, type ReactElement } from "react";

import { conversations } from "./format";
import type { Folder, MailAction } from "./types";

// Lazy: "Move to…" is a second step of the context menu.
const MoveToMenu = lazy(() => import("./MoveToMenu").then((m) => ({ default: m.MoveToMenu })));

export interface RowMenuTarget {
  position: { top: number; left: number };
  /** The row right-clicked, or the whole selection when that row is part of it. */
  threadIds: string[];
  starred: boolean;
  unread: boolean;
  moveTargets: readonly Folder[] | null;
  currentFolders: ReadonlySet<string>;
}

interface RowMenuProps {
  target: RowMenuTarget | null;
  onClose: () => void;
  onOpen: (id: string) => void;
  onAction: (action: MailAction, threadIds: string[], folder?: string) => void;
}

/** The right-click menu on a row: the same actions as the toolbar. */
export function RowMenu({ target, onClose, onOpen, onAction }: RowMenuProps) {
  const [moving, setMoving] = useState<RowMenuTarget | null>(null);
  const item = (label: string, icon: ReactElement, run: () => void) => (
    <MenuItem
      onClick={() => {
        onClose();
        run();
      }}
    >
      <ListItemIcon>{icon}</ListItemIcon>
      <ListItemText primary={label} />
    </MenuItem>
  );
  const ids = target?.threadIds ?? [];
  const act = (action: MailAction) => () => onAction(action, ids);
  return (
    <>
      <Menu
        open={target !== null}
        onClose={onClose}
        anchorReference="anchorPosition"
        anchorPosition={target?.position}
        slotProps={{ list: { "aria-label": ids.length > 1 ? `Actions for ${conversations(ids.length)}` : "Conversation actions", dense: true } }}
      >
        {ids.length === 1 && item("Open", <OpenInNew fontSize="small" />, () => onOpen(ids[0]!))}
        {ids.length === 1 && <Divider />}
        {item("Archive", <ArchiveOutlined fontSize="small" />, act("archive"))}
        {item("Move to Trash", <DeleteOutline fontSize="small" />, act("trash"))}
        {item("Report spam", <ReportGmailerrorredOutlined fontSize="small" />, act("spam"))}
        {target?.moveTargets &&
          item("Move to…", <DriveFileMoveOutlined fontSize="small" />, () => setMoving(target))}
        <Divider />
        {target?.starred
          ? item("Unstar", <StarBorder fontSize="small" />, act("unstar"))
          : item("Star", <Star fontSize="small" />, act("star"))}
        {target?.unread
          ? item("Mark as read", <DraftsOutlined fontSize="small" />, act("read"))
          : item("Mark as unread", <MarkEmailUnreadOutlined fontSize="small" />, act("unread"))}
      </Menu>
      {moving?.moveTargets && (
        <Suspense fallback={null}>
          <MoveToMenu
            open
            anchorPosition={moving.position}
            folders={moving.moveTargets}
            exclude={moving.currentFolders}
            onChoose={(folder) => onAction("move", moving.threadIds, folder)}
            onClose={() => setMoving(null)}
          />
        </Suspense>
      )}
    </>
  );
}
