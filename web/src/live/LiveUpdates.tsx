"use client";

import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import CircularProgress from "@mui/material/CircularProgress";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { onImportantMail, onNewMail } from "@/components/Notifications/desktop";

import { emitLiveEvent } from "./bus";
import { createLiveCache } from "./cache";
import { LiveSocket, type LiveStatus } from "./socket";

/**
 * Keeps the mail caches current from the live socket. Rendered once inside the signed-in shell;
 * shows nothing but a small note while the connection is being re-established.
 */
export function LiveUpdates() {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    const cache = createLiveCache(queryClient, { onNewMail, onImportantMail });
    const socket = new LiveSocket({
      onEvent: (event) => {
        cache.apply(event);
        emitLiveEvent(event);
      },
      onStatus: setStatus,
    });
    socket.start();
    return () => {
      socket.stop();
      cache.dispose();
    };
  }, [queryClient]);

  return <ReconnectingNote reconnecting={status === "reconnecting"} />;
}

/** A server restart costs a second or two; saying so for that would be noise. */
export const RECONNECTING_NOTE_DELAY_MS = 2_000;

function ReconnectingNote({ reconnecting }: { reconnecting: boolean }) {
  const [visible, setVisible] = useState(false);

  useEffect(() => {
    if (!reconnecting) return;
    const timer = setTimeout(() => setVisible(true), RECONNECTING_NOTE_DELAY_MS);
    return () => {
      clearTimeout(timer);
      setVisible(false);
    };
  }, [reconnecting]);

  // The status region stays mounted so screen readers announce the note when it appears.
  return (
    <Box
      role="status"
      sx={{
        position: "fixed",
        bottom: 16,
        left: "50%",
        transform: "translateX(-50%)",
        zIndex: (theme) => theme.zIndex.snackbar,
        // Never in the way: the note is information, not a control.
        pointerEvents: "none",
      }}
    >
      {visible && (
        <Chip
          size="small"
          icon={<CircularProgress size={12} color="inherit" aria-hidden />}
          label="Reconnecting…"
          sx={{
            bgcolor: "background.paper",
            border: 1,
            borderColor: "divider",
            boxShadow: 2,
            px: 0.5,
            "& .MuiChip-icon": { color: "text.secondary" },
          }}
        />
      )}
    </Box>
  );
}
