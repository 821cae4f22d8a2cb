"use client";

import ArchiveOutlined from "@mui/icons-material/ArchiveOutlined";
import DeleteOutline from "@mui/icons-material/DeleteOutlined";
import DraftsOutlined from "@mui/icons-material/DraftsOutlined";
import DriveFileMoveOutlined from "@mui/icons-material/DriveFileMoveOutlined";
import MarkEmailUnreadOutlined from "@mui/icons-material/MarkEmailUnreadOutlined";
import ReportGmailerrorredOutlined from "@mui/icons-material/ReportGmailerrorredOutlined";
import Star from "@mui/icons-material/Star";
import StarBorder from "@mui/icons-material/StarBorder";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";
import { lazy, Suspense, useId, useState, type ReactElement } from "react";

import { useOpenedOnce } from "@/components/lazy/lazy";

import type { Folder, MailAction } from "./types";

// Lazy: the folder menu (MUI Menu/Popover) opens on demand, not at first paint.
const MoveToMenu = lazy(() => import("./MoveToMenu").then((m) => ({ default: m.MoveToMenu })));

export interface ActionButtonsProps {
  onAction: (action: MailAction, folder?: string) => void;
  starred: boolean;
  unread: boolean;
  /** The mailbox's folders for "Move to…"; null when the threads span several mailboxes. */
  moveTargets: readonly Folder[] | null;
  /** Folders the threads are in now (left out of "Move to…"). */
  currentFolders?: ReadonlySet<string>;
}

function Action({ label, onClick, icon, ...rest }: { label: string; onClick: (el: HTMLElement) => void; icon: ReactElement; disabled?: boolean; "aria-pressed"?: boolean; "aria-haspopup"?: "menu"; "aria-expanded"?: boolean; "aria-controls"?: string }) {
  const button = (
    <IconButton aria-label={label} onClick={(event) => onClick(event.currentTarget)} {...rest}>
      {icon}
    </IconButton>
  );
  // A disabled button gets no pointer events; the span keeps its tooltip working.
  return (
    <Tooltip title={label}>
      {rest.disabled ? <span>{button}</span> : button}
    </Tooltip>
  );
}

/** Archive, Trash, Spam, Move to…, Star and Read/Unread, for the selection or an open thread. */
export function ActionButtons({ onAction, starred, unread, moveTargets, currentFolders }: ActionButtonsProps) {
  const [moveAnchor, setMoveAnchor] = useState<HTMLElement | null>(null);
  const menuId = useId();
  const menuUsed = useOpenedOnce(moveAnchor !== null);
  return (
    <>
      <Action label="Archive" icon={<ArchiveOutlined />} onClick={() => onAction("archive")} />
      <Action label="Move to Trash" icon={<DeleteOutline />} onClick={() => onAction("trash")} />
      <Action label="Report spam" icon={<ReportGmailerrorredOutlined />} onClick={() => onAction("spam")} />
      <Action
        label={moveTargets ? "Move to…" : "Move to… (choose conversations of one mailbox)"}
        icon={<DriveFileMoveOutlined />}
        disabled={!moveTargets}
        aria-haspopup="menu"
        aria-expanded={moveAnchor !== null}
        aria-controls={moveAnchor ? menuId : undefined}
        onClick={setMoveAnchor}
      />
      <Action
        label={starred ? "Unstar" : "Star"}
        aria-pressed={starred}
        icon={starred ? <Star sx={{ color: "warning.main" }} /> : <StarBorder />}
        onClick={() => onAction(starred ? "unstar" : "star")}
      />
      <Action
        label={unread ? "Mark as read" : "Mark as unread"}
        icon={unread ? <DraftsOutlined /> : <MarkEmailUnreadOutlined />}
        onClick={() => onAction(unread ? "read" : "unread")}
      />
      {moveTargets && menuUsed && (
        <Suspense fallback={null}>
          <MoveToMenu
            id={menuId}
            open={moveAnchor !== null}
            anchorEl={moveAnchor}
            folders={moveTargets}
            exclude={currentFolders}
            onChoose={(folder) => onAction("move", folder)}
            onClose={() => setMoveAnchor(null)}
          />
        </Suspense>
      )}
    </>
  );
}
