"use client";

import CloseIcon from "@mui/icons-material/Close";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Snackbar from "@mui/material/Snackbar";

import type { Feedback } from "./useMailActions";

/** "Archived 3 conversations · Undo", or what went wrong, at the bottom of the screen. */
export function ActionSnackbar({ feedback, onClose }: { feedback: Feedback | null; onClose: () => void }) {
  return (
    <Snackbar
      key={feedback?.id}
      open={feedback !== null}
      onClose={(_, reason) => {
        // A click elsewhere in the list should not take the Undo away.
        if (reason !== "clickaway") onClose();
      }}
      autoHideDuration={feedback?.error ? 10_000 : 6_000}
      anchorOrigin={{ vertical: "bottom", horizontal: "left" }}
      message={feedback?.message}
      slotProps={{
        content: {
          role: feedback?.error ? "alert" : "status",
          sx: feedback?.error ? { bgcolor: "error.dark", color: "error.contrastText" } : undefined,
        },
      }}
      action={
        <>
          {feedback?.undo && (
            <Button
              color="inherit"
              size="small"
              onClick={() => {
                feedback.undo?.();
              }}
              sx={{ fontWeight: 700 }}
            >
              Undo
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
