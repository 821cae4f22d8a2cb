"use client";

import AttachFile from "@mui/icons-material/AttachFile";
import DeleteOutline from "@mui/icons-material/DeleteOutlineOutlined";
import TextFields from "@mui/icons-material/TextFields";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import FormHelperText from "@mui/material/FormHelperText";
import IconButton from "@mui/material/IconButton";
import InputBase from "@mui/material/InputBase";
import Skeleton from "@mui/material/Skeleton";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import {
  lazy,
  Suspense,
  useCallback,
  useEffect,
  useImperativeHandle,
  useRef,
  useState,
  useSyncExternalStore,
  type Ref,
} from "react";

import { AttachmentTray } from "./AttachmentTray";
import type { BodyEditorHandle, BodyEditorProps } from "./bodyEditor";
import { FromField, useFromOptions } from "./FromField";
import { PlainEditor } from "./PlainEditor";
import { RecipientInput, type RecipientInputHandle } from "./RecipientInput";
import type { RecipientField } from "./recipients";
import { SendButton } from "./SendButton";
import type { ComposeSession, SaveStatus } from "./session";

// Lazy: Tiptap is most of the composer's weight; the fields show while it arrives.
const RichEditor = lazy(() => import("./RichEditor").then((m) => ({ default: m.RichEditor })));

export interface ComposeFormHandle {
  /** Finish the recipients being typed, then send (now, or at `sendAt`). */
  send(sendAt: string | null): void;
  /** Finish the recipients being typed (before the window closes). */
  commit(): void;
}

interface ComposeFormProps {
  session: ComposeSession;
  /** Changes when the form should take the focus. */
  focusToken: number;
  /** Where the focus goes: the To field for new mail, the body for replies. */
  focusTarget: "to" | "body";
  onSend: (sendAt: string | null) => void;
  onDiscard: () => void;
  /** Height of the body's editing area. */
  bodyMinHeight?: number;
  handle?: Ref<ComposeFormHandle>;
}

const SAVE_WORDS: Record<SaveStatus, string> = {
  idle: "",
  saving: "Saving…",
  saved: "Saved",
  retrying: "Not saved — retrying",
  failed: "Not saved",
};

function useSessionState(session: ComposeSession) {
  return useSyncExternalStore(session.subscribe, session.getState, session.getState);
}

function BodySkeleton({ height }: { height: number }) {
  return (
    <Box aria-busy="true" aria-label="Preparing the draft" sx={{ py: 1, height }}>
      <Skeleton variant="text" width="70%" />
      <Skeleton variant="text" width="50%" />
    </Box>
  );
}

/** The fields of a compose window: From, recipients, subject, the body, files and the actions. */
export function ComposeForm({ session, focusToken, focusTarget, onSend, onDiscard, bodyMinHeight = 160, handle }: ComposeFormProps) {
  const state = useSessionState(session);
  const fromOptions = useFromOptions();
  const [showCc, setShowCc] = useState(state.cc.length > 0);
  const [showBcc, setShowBcc] = useState(state.bcc.length > 0);
  const fields = useRef<Partial<Record<RecipientField, RecipientInputHandle | null>>>({});
  const editor = useRef<BodyEditorHandle | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const pendingFocus = useRef<"to" | "body" | null>(null);
  const [toolbarSlot, setToolbarSlot] = useState<HTMLDivElement | null>(null);

  // Replies arrive with Cc filled in: show the field then.
  if (state.cc.length > 0 && !showCc) setShowCc(true);
  if (state.bcc.length > 0 && !showBcc) setShowBcc(true);

  const commitAll = useCallback(() => {
    for (const field of ["to", "cc", "bcc"] as const) fields.current[field]?.commit();
  }, []);
  useImperativeHandle(handle, () => ({
    send: (sendAt) => {
      commitAll();
      onSend(sendAt);
    },
    commit: commitAll,
  }));

  // Focus on open (and when the window is brought back): To for new mail, the body for replies.
  useEffect(() => {
    const target = focusTarget === "body" && state.to.length === 0 && state.phase === "ready" ? "to" : focusTarget;
    if (target === "to") fields.current.to?.focus();
    else if (!editor.current?.focus("start")) pendingFocus.current = "body";
    // Only when asked to (the token), not on every change of the draft.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focusToken]);

  // The mounted editor is read at save time; when it goes, the session keeps what it held.
  const detachBody = useRef<(() => void) | null>(null);
  const onReady = useCallback(
    (ready: BodyEditorHandle | null) => {
      detachBody.current?.();
      detachBody.current = null;
      editor.current = ready;
      if (ready === null) return;
      detachBody.current = session.attachBody(() => ready.read());
      if (pendingFocus.current === "body" && ready.focus("start")) pendingFocus.current = null;
    },
    [session],
  );

  const onFiles = useCallback((files: File[]) => session.addFiles(files), [session]);
  const attachments = state.draft?.attachments ?? [];
  const errors = state.errors;
  const editorProps: BodyEditorProps = {
    initialHtml: state.body.html,
    initialText: state.body.text,
    label: "Message body",
    onChange: () => session.bodyChanged(),
    onReady,
    autoFocus: false,
    onFiles,
    minHeight: bodyMinHeight,
    toolbarSlot,
  };
  const locked = state.phase === "locked";

  return (
    <Box sx={{ display: "flex", flexDirection: "column", flex: 1, minHeight: 0 }}>
      <Box
        sx={{
          flex: 1,
          minHeight: 0,
          overflowY: "auto",
          px: 2,
          pb: 1,
          display: "flex",
          flexDirection: "column",
          "& > *": { flexShrink: 0 },
        }}
      >
        {state.loadError !== null && (
          <Alert
            severity="error"
            sx={{ mt: 1 }}
            action={
              <Button color="inherit" size="small" onClick={() => void session.retryStart()}>
                Try again
              </Button>
            }
          >
            {`Couldn't prepare the draft. ${state.loadError}`}
          </Alert>
        )}
        {state.notice !== null && (
          <Alert
            severity={locked ? "info" : "warning"}
            sx={{ mt: 1 }}
            onClose={locked ? undefined : () => session.dismissNotice()}
            action={
              locked ? (
                <Button color="inherit" size="small" onClick={() => void session.unlock()}>
                  Undo send
                </Button>
              ) : undefined
            }
          >
            {state.notice}
          </Alert>
        )}
        {errors.form && (
          <Alert severity="error" role="alert" sx={{ mt: 1 }}>
            {errors.form}
          </Alert>
        )}
        {fromOptions.length > 1 && (
          <FromField
            options={fromOptions}
            value={state.from}
            accountId={state.draft?.account_id ?? null}
            lockAccount={attachments.length > 0}
            onChange={(option) => void session.moveTo(option.accountId, option.address)}
            error={errors.from}
          />
        )}
        <RecipientInput
          ref={(node) => {
            fields.current.to = node;
          }}
          label="To"
          chips={state.to}
          onChange={(chips) => session.setRecipients("to", chips)}
          error={errors.to}
          end={
            <Box sx={{ display: "flex", flexShrink: 0 }}>
              {!showCc && (
                <Button size="small" color="inherit" onClick={() => setShowCc(true)} sx={{ minWidth: 0, color: "text.secondary", textTransform: "none" }} aria-label="Add Cc recipients">
                  Cc
                </Button>
              )}
              {!showBcc && (
                <Button size="small" color="inherit" onClick={() => setShowBcc(true)} sx={{ minWidth: 0, color: "text.secondary", textTransform: "none" }} aria-label="Add Bcc recipients">
                  Bcc
                </Button>
              )}
            </Box>
          }
        />
        {showCc && (
          <RecipientInput
            ref={(node) => {
              fields.current.cc = node;
            }}
            label="Cc"
            chips={state.cc}
            onChange={(chips) => session.setRecipients("cc", chips)}
            error={errors.cc}
          />
        )}
        {showBcc && (
          <RecipientInput
            ref={(node) => {
              fields.current.bcc = node;
            }}
            label="Bcc"
            chips={state.bcc}
            onChange={(chips) => session.setRecipients("bcc", chips)}
            error={errors.bcc}
          />
        )}
        <Box sx={{ borderBottom: 1, borderColor: errors.subject ? "error.main" : "divider" }}>
          <InputBase
            fullWidth
            value={state.subject}
            onChange={(event) => session.setSubject(event.target.value)}
            placeholder="Subject"
            inputProps={{ "aria-label": "Subject", "aria-invalid": errors.subject ? true : undefined, maxLength: 998 }}
            sx={{ fontSize: 14, minHeight: 40 }}
          />
        </Box>
        {errors.subject && (
          <FormHelperText error role="alert">
            {errors.subject}
          </FormHelperText>
        )}
        {state.phase === "creating" ? (
          <BodySkeleton height={bodyMinHeight} />
        ) : state.plain ? (
          <PlainEditor key={`plain-${state.body.revision}`} {...editorProps} />
        ) : (
          <Suspense fallback={<BodySkeleton height={bodyMinHeight} />}>
            <RichEditor key={`rich-${state.body.revision}`} {...editorProps} />
          </Suspense>
        )}
        {errors.body && (
          <FormHelperText error role="alert">
            {errors.body}
          </FormHelperText>
        )}
        <AttachmentArea session={session} />
        {errors.attachments && (
          <FormHelperText error role="alert">
            {errors.attachments}
          </FormHelperText>
        )}
        {errors.send_at && (
          <FormHelperText error role="alert">
            {errors.send_at}
          </FormHelperText>
        )}
      </Box>
      <Box ref={setToolbarSlot} sx={{ px: 1.5, display: state.plain ? "none" : "block", "&:empty": { display: "none" } }} />
      <Box
        sx={{
          display: "flex",
          alignItems: "center",
          gap: 0.5,
          px: 2,
          py: 1,
          borderTop: 1,
          borderColor: "divider",
          flexWrap: "wrap",
        }}
      >
        <SendButton
          disabled={locked}
          onSend={(sendAt) => {
            commitAll();
            onSend(sendAt);
          }}
        />
        <Tooltip title="Attach files">
          <IconButton aria-label="Attach files" onClick={() => fileInput.current?.click()} disabled={locked}>
            <AttachFile />
          </IconButton>
        </Tooltip>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-hidden
          tabIndex={-1}
          onChange={(event) => {
            const files = [...(event.target.files ?? [])];
            event.target.value = "";
            onFiles(files);
          }}
        />
        <Tooltip title={state.plain ? "Plain text: on (no formatting)" : "Plain text: off"}>
          <IconButton
            aria-label="Plain text"
            aria-pressed={state.plain}
            onClick={() => session.setPlain(!state.plain)}
            disabled={locked || state.phase !== "ready"}
            sx={{ color: state.plain ? "primary.main" : undefined }}
          >
            <TextFields />
          </IconButton>
        </Tooltip>
        <Typography
          variant="caption"
          // Said aloud only when it is news: "Saving… Saved" after every pause would be noise.
          aria-live={state.save === "retrying" || state.save === "failed" ? "polite" : "off"}
          sx={{ flex: 1, minWidth: 80, textAlign: "right", color: state.save === "retrying" || state.save === "failed" ? "error.main" : "text.secondary" }}
        >
          {SAVE_WORDS[state.save]}
        </Typography>
        <Tooltip title="Discard draft">
          <IconButton aria-label="Discard draft" onClick={onDiscard}>
            <DeleteOutline />
          </IconButton>
        </Tooltip>
      </Box>
    </Box>
  );
}

function AttachmentArea({ session }: { session: ComposeSession }) {
  const state = useSessionState(session);
  return (
    <AttachmentTray
      attachments={state.draft?.attachments ?? []}
      uploads={state.uploads}
      onRemove={(position) => void session.removeAttachment(position)}
      onCancelUpload={(id) => session.cancelUpload(id)}
    />
  );
}
