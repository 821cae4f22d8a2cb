"use client";

import Box from "@mui/material/Box";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";

import { useComposeInternals, type ComposeWindowState } from "./ComposeProvider";
import { ComposeWindow } from "./ComposeWindow";

/** Shown under its thread (ThreadReplyArea) rather than here. */
function isInline(win: ComposeWindowState, inlineThreads: ReadonlySet<string>, narrow: boolean): boolean {
  return !narrow && !win.poppedOut && win.threadId !== null && inlineThreads.has(win.threadId);
}

/**
 * The floating compose windows: side by side at the bottom right on a desktop (newest on the
 * right, as in Gmail), one at a time over the whole screen on a phone.
 */
export function ComposeDock() {
  const internals = useComposeInternals();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  if (internals === null) return null;
  const windows = internals.windows.filter((win) => !isInline(win, internals.inlineThreads, narrow));
  if (windows.length === 0) return null;

  if (narrow) {
    // The newest open window has the screen; the others wait minimised (or closing, unseen).
    const front = windows.filter((win) => !win.hidden && !win.minimized).at(-1);
    return (
      <>
        {windows.map((win) => (
          <ComposeWindow
            key={win.key}
            win={win === front || win.hidden ? win : { ...win, hidden: true }}
            placement="fullscreen"
          />
        ))}
      </>
    );
  }

  const maximized = windows.find((win) => win.maximized && !win.minimized && !win.hidden);
  return (
    <>
      {maximized && (
        <Box
          aria-hidden
          onClick={() => internals.update(maximized.key, { maximized: false })}
          sx={{ position: "fixed", inset: 0, bgcolor: "rgba(0, 0, 0, 0.4)", zIndex: (t) => t.zIndex.modal - 1 }}
        />
      )}
      <Box
        sx={{
          position: "fixed",
          right: 16,
          bottom: 0,
          left: { xs: 16, md: 272 },
          display: "flex",
          flexDirection: "row",
          justifyContent: "flex-end",
          alignItems: "flex-end",
          gap: 2,
          zIndex: (t) => t.zIndex.modal - 1,
          pointerEvents: "none",
        }}
      >
        {windows.map((win) => (
          <ComposeWindow key={win.key} win={win} placement="floating" />
        ))}
      </Box>
    </>
  );
}
