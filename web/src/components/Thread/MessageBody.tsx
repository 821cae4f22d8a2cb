"use client";

import ImageNotSupportedOutlined from "@mui/icons-material/ImageNotSupportedOutlined";
import MoreHoriz from "@mui/icons-material/MoreHoriz";
import ShieldOutlined from "@mui/icons-material/ShieldOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import ButtonBase from "@mui/material/ButtonBase";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useId, useState } from "react";

import type { Message } from "@/api/thread";

import { foldIndex } from "./format";
import { HtmlFrame } from "./HtmlFrame";
import { Linkified } from "./linkify";

export type BodyView = "html" | "text";

// Plain text reads best at 15 px, a line height of 1.5 and about 72 characters a line.
const TEXT_SX = {
  fontSize: 15,
  lineHeight: 1.5,
  maxWidth: "72ch",
  whiteSpace: "pre-wrap",
  overflowWrap: "anywhere",
  m: 0,
} as const;

type TextParts = Pick<Message, "body_text" | "quote_offset" | "signature_offset">;

/** Plain text with links, its quoted history and signature folded behind "…". */
export function PlainTextBody({ message }: { message: TextParts }) {
  const [open, setOpen] = useState(false);
  const restId = useId();
  const text = message.body_text;
  if (text.trim() === "") {
    return (
      <Typography sx={{ color: "text.secondary", fontStyle: "italic" }}>This message has no text.</Typography>
    );
  }
  const fold = foldIndex(message);
  const main = fold === null ? text : text.slice(0, fold).replace(/\s+$/, "");
  const label = open ? "Hide quoted text" : "Show quoted text";
  return (
    <Box>
      <Box sx={TEXT_SX} data-testid="message-text">
        <Linkified text={main} />
      </Box>
      {fold !== null && (
        <>
          <Tooltip title={label} placement="right">
            <ButtonBase
              aria-label={label}
              aria-expanded={open}
              aria-controls={open ? restId : undefined}
              onClick={() => setOpen((value) => !value)}
              sx={{
                mt: 1,
                px: 1,
                height: 20,
                borderRadius: 1,
                bgcolor: "action.selected",
                color: "text.secondary",
                "&:hover": { bgcolor: "action.focus" },
                "&.Mui-focusVisible": { outline: 2, outlineColor: "primary.main", outlineStyle: "solid" },
              }}
            >
              <MoreHoriz fontSize="small" aria-hidden />
            </ButtonBase>
          </Tooltip>
          {open && (
            <Box id={restId} sx={{ ...TEXT_SX, mt: 1, color: "text.secondary" }} data-testid="quoted-text">
              <Linkified text={text.slice(fold)} />
            </Box>
          )}
        </>
      )}
    </Box>
  );
}

interface ImagesNoticeProps {
  message: Pick<Message, "has_remote_images" | "has_tracking_pixel" | "show_images">;
  onShowImages: () => void;
  pending: boolean;
}

const TRACKER_SENTENCE = "This message tries to track when you open it; the tracker is blocked.";

/** Why pictures are missing, and the way to see them; and whether a tracker was stopped. */
export function ImagesNotice({ message, onShowImages, pending }: ImagesNoticeProps) {
  if (message.has_remote_images && !message.show_images) {
    return (
      <Alert
        severity="info"
        icon={<ImageNotSupportedOutlined fontSize="inherit" />}
        sx={{ mb: 2, alignItems: "center" }}
        action={
          <Button color="inherit" size="small" loading={pending} onClick={onShowImages}>
            Show images
          </Button>
        }
      >
        Images are hidden to protect your privacy.
        {message.has_tracking_pixel && <Box component="span" sx={{ display: "block" }}>{TRACKER_SENTENCE}</Box>}
      </Alert>
    );
  }
  if (message.has_tracking_pixel) {
    return (
      <Typography
        variant="body2"
        sx={{ mb: 1.5, display: "flex", alignItems: "center", gap: 1, color: "text.secondary" }}
      >
        <ShieldOutlined fontSize="small" aria-hidden />
        {TRACKER_SENTENCE}
      </Typography>
    );
  }
  return null;
}

interface MessageBodyProps {
  message: Message;
  view: BodyView;
  /** Who wrote it, to name the HTML frame for screen readers. */
  sender: string;
}

/** The message itself: its HTML in the sandboxed frame, or its plain text. */
export function MessageBody({ message, view, sender }: MessageBodyProps) {
  if (view === "html" && message.body_html !== null) {
    return (
      <HtmlFrame
        html={message.body_html}
        attachments={message.attachments}
        allowRemoteImages={message.show_images}
        title={`Message from ${sender}`}
      />
    );
  }
  return <PlainTextBody message={message} />;
}
