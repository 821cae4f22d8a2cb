"use client";

import CloseIcon from "@mui/icons-material/Close";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Snackbar from "@mui/material/Snackbar";

import type { ComposeNotice } from "./notice";
import { formatSendAt } from "./schedule";

interface ComposeSnackbarProps {
  notice: ComposeNotice | null;
  onUndo: (notice: ComposeNotice) => void;
  onOpen: (draftId: string) => void;
  onClose: () => void;
}

function words(notice: ComposeNotice): string {
  switch (notice.kind) {
    case "sending":
      if (notice.undoAsked) return "Undoing…";
      if (notice.sendAt !== null) return `Scheduled for ${formatSendAt(notice.sendAt)}`;
      return notice.sent ? "Message sent." : "Sending…";
    default:
      return notice.message;
  }
}

/** How long a notice stays: a send for its undo window, a failure until read. */
function duration(notice: ComposeNotice | null): number | null {
  if (notice === null) return null;
  if (notice.kind === "sending") {
    if (notice.undoAsked) return null;
    if (notice.sendAt !== null) return 10_000;
    return notice.undoable ? Math.max(notice.undoSeconds, 1) * 1000 : 4_000;
  }
  return notice.kind === "failed" ? null : notice.kind === "error" ? 10_000 : 4_000;
}

/** "Sending… Undo", "Scheduled for Mon 8 Dec, 08:00 Undo", "Message not sent: … Open". */
export function ComposeSnackbar({ notice, onUndo, onOpen, onClose }: ComposeSnackbarProps) {
  const alarming = notice?.kind === "error" || notice?.kind === "failed";
  const undoable = notice?.kind === "sending" && notice.undoable && !notice.undoAsked;
  return (
    <Snackbar
      key={notice?.id}
      open={notice !== null}
      autoHideDuration={duration(notice)}
      onClose={(_, reason) => {
        if (reason !== "clickaway") onClose();
      }}
      anchorOrigin={{ vertical: "bottom", horizontal: "left" }}
      message={notice ? words(notice) : ""}
      slotProps={{
        content: {
          role: alarming ? "alert" : "status",
          sx: alarming ? { bgcolor: "error.dark", color: "error.contrastText" } : undefined,
        },
      }}
      action={
        <>
          {notice !== null && undoable && (
            <Button color="inherit" size="small" sx={{ fontWeight: 700 }} onClick={() => onUndo(notice)}>
              Undo
            </Button>
          )}
          {notice?.kind === "failed" && (
            <Button color="inherit" size="small" sx={{ fontWeight: 700 }} onClick={() => onOpen(notice.draftId)}>
              Open
            </Button>
          )}
          <IconButton size="small" color="inherit" aria-label="Dismiss" onClick={onClose}>
            <CloseIcon fontSize="small" />
          </IconButton>
        </>
      }
    />
  );
}
