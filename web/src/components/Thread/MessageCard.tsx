"use client";

import AttachFile from "@mui/icons-material/AttachFile";
import Reply from "@mui/icons-material/Reply";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import ButtonBase from "@mui/material/ButtonBase";
import IconButton from "@mui/material/IconButton";
import Paper from "@mui/material/Paper";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useState, type MouseEvent } from "react";

import { errorMessage } from "@/api/problem";
import { useShowImages, type Message } from "@/api/thread";
import { MessageInsight } from "@/components/Assistant/MessageInsight";
import { useCompose } from "@/components/Compose/ComposeProvider";
import { canReplyAll } from "@/components/Compose/replyTarget";

import { AttachmentList } from "./AttachmentList";
import { displayName, formatFullDate, formatShortDate, messageDate } from "./format";
import { ImagesNotice, MessageBody, type BodyView } from "./MessageBody";
import { MessageHeader, SenderAvatar } from "./MessageHeader";
import { MessageMenu } from "./MessageMenu";

export interface MessageCardProps {
  message: Message;
  expanded: boolean;
  /** Open or close the card; absent when it must stay open (the only message). */
  onToggle?: () => void;
  /** The user's own addresses (lower-cased), shown as "me". */
  own: ReadonlySet<string>;
  /** Just arrived while the thread was open: drawn with a brief highlight. */
  highlighted?: boolean;
}

const focusRing = {
  "&.Mui-focusVisible": { outline: 2, outlineStyle: "solid", outlineColor: "primary.main", outlineOffset: -2 },
} as const;

/** One line: who, the start of the text, when. A click opens the card. */
function CollapsedCard({ message, onToggle }: { message: Message; onToggle?: () => void }) {
  const date = messageDate(message);
  const unread = !message.is_read;
  return (
    <ButtonBase
      aria-expanded={false}
      onClick={onToggle}
      sx={{
        width: "100%",
        display: "flex",
        alignItems: "center",
        justifyContent: "flex-start",
        gap: 1.5,
        px: 2,
        py: 1.25,
        textAlign: "left",
        borderRadius: "inherit",
        "&:hover": { bgcolor: "action.hover" },
        ...focusRing,
      }}
    >
      <SenderAvatar address={message.from} size={32} />
      <Typography
        component="span"
        noWrap
        sx={{ fontWeight: unread ? 700 : 500, flexShrink: 0, maxWidth: { xs: "40%", sm: 220 } }}
      >
        {displayName(message.from)}
      </Typography>
      <Typography component="span" variant="body2" noWrap sx={{ color: "text.secondary", flex: 1, minWidth: 0 }}>
        {message.snippet}
      </Typography>
      {message.attachments.some((attachment) => !attachment.is_inline) && (
        <AttachFile fontSize="small" titleAccess="Has attachments" sx={{ color: "text.secondary" }} />
      )}
      <Typography
        component="time"
        variant="body2"
        dateTime={date}
        title={formatFullDate(date)}
        sx={{
          color: unread ? "text.primary" : "text.secondary",
          fontWeight: unread ? 700 : 400,
          flexShrink: 0,
          fontVariantNumeric: "tabular-nums",
        }}
      >
        {formatShortDate(date)}
      </Typography>
    </ButtonBase>
  );
}

/** An open message: header, privacy notices, the body, attachments. */
function ExpandedCard({ message, onToggle, own }: MessageCardProps) {
  const hasHtml = message.body_html !== null;
  const [view, setView] = useState<BodyView>(hasHtml ? "html" : "text");
  const [notice, setNotice] = useState<string | null>(null);
  const showImages = useShowImages();
  const compose = useCompose();
  const sender = displayName(message.from);
  const shownView: BodyView = hasHtml ? view : "text";
  // Pictures shown inside the HTML are part of the body, not files to list again.
  const files = message.attachments.filter((attachment) => shownView === "text" || !attachment.is_inline);

  // Clicking the header closes the card, as in Gmail; its links and buttons keep their own job.
  const closeFromHeader = (event: MouseEvent<HTMLElement>) => {
    if (onToggle === undefined) return;
    if ((event.target as HTMLElement).closest("a, button, [role=menu], dl") !== null) return;
    if (window.getSelection()?.toString()) return; // selecting an address is not a click
    onToggle();
  };

  return (
    <Box sx={{ px: { xs: 1.5, sm: 2 }, py: 2 }}>
      <Box onClick={closeFromHeader} sx={{ cursor: onToggle ? "pointer" : undefined }}>
        <MessageHeader
          message={message}
          own={own}
          menu={
            <>
              {!message.is_draft && (
                <Tooltip title="Reply">
                  <IconButton
                    size="small"
                    aria-label="Reply"
                    onClick={(event) => {
                      event.stopPropagation();
                      compose.openReply(message.id, "reply");
                    }}
                  >
                    <Reply fontSize="small" />
                  </IconButton>
                </Tooltip>
              )}
              <MessageMenu
                messageId={message.id}
                view={shownView}
                canSwitchView={hasHtml && message.body_text.trim() !== ""}
                onSwitchView={() => setView(shownView === "html" ? "text" : "html")}
                onError={setNotice}
                onReply={message.is_draft ? undefined : () => compose.openReply(message.id, "reply")}
                onReplyAll={
                  message.is_draft || !canReplyAll(message, own) ? undefined : () => compose.openReply(message.id, "reply_all")
                }
                onForward={message.is_draft ? undefined : () => compose.openForward(message.id)}
              />
            </>
          }
        />
      </Box>
      <MessageInsight message={message} />
      <Box sx={{ mt: 2, ml: { xs: 0, sm: 6.5 }, minWidth: 0 }}>
        {notice !== null && (
          <Alert severity="error" onClose={() => setNotice(null)} sx={{ mb: 2 }}>
            {notice}
          </Alert>
        )}
        {message.parse_error !== null && (
          <Alert severity="warning" sx={{ mb: 2 }}>
            Part of this message couldn&apos;t be read, so it may look incomplete. &ldquo;View original&rdquo; in
            its menu shows it exactly as it was sent.
          </Alert>
        )}
        {shownView === "html" && (
          <>
            <ImagesNotice
              message={message}
              pending={showImages.isPending}
              onShowImages={() => showImages.mutate(message)}
            />
            {showImages.isError && (
              <Alert severity="error" sx={{ mb: 2 }}>
                {`Couldn't show the images. ${errorMessage(showImages.error)}`}
              </Alert>
            )}
          </>
        )}
        <MessageBody message={message} view={shownView} sender={sender} />
        <AttachmentList attachments={files} onError={setNotice} />
      </Box>
    </Box>
  );
}

/** A message of a thread, open (the newest and unread ones) or folded to one line. */
export function MessageCard(props: MessageCardProps) {
  const { message, expanded, highlighted = false } = props;
  return (
    <Paper
      component="article"
      variant="outlined"
      aria-label={`Message from ${displayName(message.from)}, ${formatShortDate(messageDate(message))}`}
      data-message-id={message.id}
      data-expanded={expanded}
      data-highlighted={highlighted || undefined}
      sx={{
        overflow: "hidden",
        transition: "background-color 150ms ease-out, border-color 150ms ease-out",
        "@media (prefers-reduced-motion: reduce)": { transition: "none" },
        ...(highlighted && { bgcolor: "action.selected", borderColor: "primary.main" }),
      }}
    >
      {expanded ? <ExpandedCard {...props} /> : <CollapsedCard message={message} onToggle={props.onToggle} />}
    </Paper>
  );
}
