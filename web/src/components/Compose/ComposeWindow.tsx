"use client";

import CloseIcon from "@mui/icons-material/Close";
import CloseFullscreen from "@mui/icons-material/CloseFullscreen";
import Minimize from "@mui/icons-material/Minimize";
import OpenInFull from "@mui/icons-material/OpenInFull";
import OpenInNew from "@mui/icons-material/OpenInNew";
import Box from "@mui/material/Box";
import IconButton from "@mui/material/IconButton";
import Paper from "@mui/material/Paper";
import type { SxProps, Theme } from "@mui/material/styles";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useEffect, useId, useRef, useState, useSyncExternalStore, type DragEvent, type KeyboardEvent, type ReactNode } from "react";

import { forgetDraft, rememberDraft, type Draft } from "@/api/compose";
import { ComposeAiReply } from "@/components/Assistant/ComposeAiReply";

import { useComposeInternals, type ComposeInternals, type ComposeWindowState } from "./ComposeProvider";
import { ComposeForm, type ComposeFormHandle } from "./ComposeForm";
import { ComposeSession, type SessionState } from "./session";
import { closeWindow, discardWindow, sendWindow } from "./windowActions";

export type Placement = "floating" | "inline" | "fullscreen";

/** The window's session, made the first time the window shows (and kept by the provider). */
function sessionFor(internals: ComposeInternals, win: ComposeWindowState): ComposeSession {
  let session = internals.sessions.get(win.key);
  if (session === undefined) {
    const { queryClient } = internals;
    session = new ComposeSession(win.intent, {
      onSaved: (draft) => rememberDraft(queryClient, draft),
      onDeleted: (id) => forgetDraft(queryClient, id),
    });
    internals.sessions.set(win.key, session);
  }
  return session;
}

function titleOf(win: ComposeWindowState, state: SessionState, inline: boolean): string {
  const mode = win.intent.kind === "draft" ? state.draft?.mode : win.intent.kind === "reply" ? win.intent.mode : win.intent.kind;
  const named = mode === "reply" ? "Reply" : mode === "reply_all" ? "Reply all" : mode === "forward" ? "Forward" : null;
  // Under its thread the subject is already on screen, above the messages.
  if (inline && named) return named;
  if (state.subject.trim()) return state.subject.trim();
  return named ?? (win.intent.kind === "draft" ? "Draft" : "New message");
}

function HeaderButton({ label, onClick, children }: { label: string; onClick: () => void; children: ReactNode }) {
  return (
    <Tooltip title={label}>
      <IconButton
        size="small"
        aria-label={label}
        onClick={(event) => {
          event.stopPropagation();
          onClick();
        }}
        sx={{ color: "inherit" }}
      >
        {children}
      </IconButton>
    </Tooltip>
  );
}

function hasFiles(event: DragEvent): boolean {
  return [...event.dataTransfer.types].includes("Files");
}

interface ComposeWindowProps {
  win: ComposeWindowState;
  placement: Placement;
}

/** One compose window: floating at the bottom right, inline under a thread, or full screen on a phone. */
export function ComposeWindow({ win, placement }: ComposeWindowProps) {
  const internals = useComposeInternals();
  if (internals === null) return null;
  return <WindowFrame win={win} placement={placement} internals={internals} />;
}

function WindowFrame({ win, placement, internals }: ComposeWindowProps & { internals: ComposeInternals }) {
  const session = sessionFor(internals, win);
  const state = useSyncExternalStore(session.subscribe, session.getState, session.getState);
  const form = useRef<ComposeFormHandle>(null);
  const frame = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const [dragging, setDragging] = useState(0);
  const { key } = win;
  const { update } = internals;
  const close = (target: string) => closeWindow(internals, target);

  useEffect(() => {
    void session.start();
  }, [session]);

  // A reply learns its thread once the draft exists: it moves under that thread when it is open.
  const threadId = state.draft?.mode !== "new" ? (state.draft?.thread_id ?? null) : null;
  useEffect(() => {
    if (threadId !== null && threadId !== win.threadId) update(key, { threadId });
  }, [threadId, win.threadId, key, update]);

  // Under a thread, the reply comes into view when it opens (or is asked for again).
  useEffect(() => {
    if (placement === "inline") frame.current?.scrollIntoView?.({ block: "nearest" });
  }, [placement, win.focusToken]);

  const focusTarget =
    win.intent.kind === "reply" || (win.intent.kind === "draft" && win.intent.draft?.to.length) ? "body" : "to";
  const inline = placement === "inline";
  const minimized = placement === "floating" && win.minimized;
  const maximized = placement === "floating" && win.maximized && !win.minimized;
  const title = titleOf(win, state, inline);
  // A reply can be written by the assistant instead: its draft then takes this window's place.
  const replying = state.draft !== null && (state.draft.mode === "reply" || state.draft.mode === "reply_all");
  const aiThread = replying && state.phase === "ready" ? threadId : null;
  const takeAiDraft = (draft: Draft) => {
    if (state.touched) {
      internals.setNotice({ id: internals.nextNoticeId(), kind: "info", message: "Your earlier reply is kept in Drafts." });
    }
    void close(key);
    internals.compose.openDraft(draft.id, draft);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.nativeEvent.isComposing) {
      event.preventDefault();
      form.current?.send(null);
      return;
    }
    // ProseMirror marks every Escape in the body as handled though it does nothing with it; that
    // one is still the window's. Other handled Escapes (a list, a menu) are not.
    const fromBody = event.target instanceof Element && event.target.closest(".ProseMirror") !== null;
    if (event.key === "Escape" && !inline && (!event.defaultPrevented || fromBody)) {
      event.preventDefault();
      form.current?.commit();
      void close(key);
    }
  };

  const dropHandlers = {
    onDragEnter: (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging((count) => count + 1);
    },
    onDragOver: (event: DragEvent) => {
      if (hasFiles(event)) event.preventDefault();
    },
    onDragLeave: (event: DragEvent) => {
      if (hasFiles(event)) setDragging((count) => Math.max(0, count - 1));
    },
    onDrop: (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(0);
      session.addFiles([...event.dataTransfer.files]);
    },
  };

  const frameSx: SxProps<Theme> =
    placement === "fullscreen"
      ? { position: "fixed", inset: 0, borderRadius: 0, zIndex: (theme) => theme.zIndex.modal }
      : placement === "inline"
        ? { mt: 2 }
        : {
            width: maximized ? "min(1000px, calc(100vw - 64px))" : minimized ? 280 : 540,
            height: maximized ? "min(860px, calc(100dvh - 96px))" : minimized ? "auto" : "min(620px, calc(100dvh - 88px))",
            flexShrink: minimized ? 0 : 1,
            minWidth: minimized ? 200 : 0,
            borderBottomLeftRadius: 0,
            borderBottomRightRadius: 0,
            ...(maximized && { position: "fixed", left: "50%", top: "50%", transform: "translate(-50%, -50%)", borderRadius: 2 }),
          };

  return (
    <Paper
      ref={frame}
      elevation={inline ? 0 : 12}
      variant={inline ? "outlined" : "elevation"}
      role={inline ? "region" : "dialog"}
      aria-modal={inline ? undefined : false}
      aria-labelledby={titleId}
      data-compose-window=""
      data-compose-key={key}
      onKeyDown={onKeyDown}
      onBlur={(event) => {
        // Leaving the window: save now rather than after the pause.
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) void session.flush();
      }}
      {...dropHandlers}
      sx={[
        { display: win.hidden ? "none" : "flex", flexDirection: "column", overflow: "hidden", position: "relative", pointerEvents: "auto" },
        frameSx,
      ] as SxProps<Theme>}
    >
      <Box
        onClick={minimized ? () => update(key, { minimized: false }) : undefined}
        sx={{
          display: "flex",
          alignItems: "center",
          gap: 0.5,
          pl: 2,
          pr: 0.5,
          minHeight: 40,
          cursor: minimized ? "pointer" : undefined,
          bgcolor: inline ? "transparent" : "action.selected",
          borderBottom: minimized ? 0 : 1,
          borderColor: "divider",
        }}
      >
        <Typography id={titleId} component="h2" variant="subtitle2" noWrap sx={{ flex: 1, minWidth: 0 }}>
          {title}
        </Typography>
        {placement === "floating" && (
          <>
            <HeaderButton label={minimized ? "Restore" : "Minimise"} onClick={() => update(key, { minimized: !minimized })}>
              <Minimize fontSize="small" />
            </HeaderButton>
            <HeaderButton
              label={maximized ? "Exit full size" : "Full size"}
              onClick={() => update(key, { maximized: !maximized, minimized: false })}
            >
              {maximized ? <CloseFullscreen fontSize="small" /> : <OpenInFull fontSize="small" />}
            </HeaderButton>
          </>
        )}
        {aiThread !== null && <ComposeAiReply threadId={aiThread} onDraft={takeAiDraft} />}
        {inline && (
          <HeaderButton label="Pop out" onClick={() => update(key, { poppedOut: true, focusToken: win.focusToken + 1 })}>
            <OpenInNew fontSize="small" />
          </HeaderButton>
        )}
        <HeaderButton
          label="Save and close"
          onClick={() => {
            form.current?.commit();
            void close(key);
          }}
        >
          <CloseIcon fontSize="small" />
        </HeaderButton>
      </Box>
      <Box sx={{ display: minimized ? "none" : "flex", flexDirection: "column", flex: 1, minHeight: 0 }}>
        <ComposeForm
          session={session}
          handle={form}
          focusToken={win.focusToken}
          focusTarget={focusTarget}
          bodyMinHeight={inline ? 120 : placement === "fullscreen" || maximized ? 320 : 160}
          onSend={(sendAt) => void sendWindow(internals, key, sendAt)}
          onDiscard={() => void discardWindow(internals, key)}
        />
      </Box>
      {dragging > 0 && (
        <Box
          aria-hidden
          sx={{
            position: "absolute",
            inset: 0,
            display: "grid",
            placeItems: "center",
            bgcolor: "background.paper",
            opacity: 0.94,
            border: 2,
            borderStyle: "dashed",
            borderColor: "primary.main",
            typography: "subtitle1",
            color: "primary.main",
            pointerEvents: "none",
            zIndex: 1,
          }}
        >
          Drop files here to attach them
        </Box>
      )}
    </Paper>
  );
}
