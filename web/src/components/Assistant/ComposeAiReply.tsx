"use client";

import AutoAwesomeOutlined from "@mui/icons-material/AutoAwesomeOutlined";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";

import type { Draft } from "@/api/compose";

import { AiReplyButton, AiReplyPanel } from "./AiReply";
import { useAiReply } from "./useAiReply";

interface ComposeAiReplyProps {
  /** The conversation the window answers. */
  threadId: string;
  /** The assistant's draft is saved: it takes the window's place. */
  onDraft: (draft: Draft) => void;
}

/**
 * "AI reply" in a reply window's header. The reply streams over the window, then the draft the
 * server wrote replaces the window's own.
 */
export function ComposeAiReply({ threadId, onDraft }: ComposeAiReplyProps) {
  const ai = useAiReply(threadId, onDraft);
  const busy = ai.state.phase !== "idle";
  return (
    <>
      <AiReplyButton
        onWrite={ai.write}
        render={(open) => (
          <Tooltip title="AI reply">
            <span>
              <IconButton
                size="small"
                aria-label="AI reply"
                aria-haspopup="dialog"
                disabled={busy}
                onClick={(event) => {
                  event.stopPropagation();
                  open(event.currentTarget);
                }}
                sx={{ color: "inherit" }}
              >
                <AutoAwesomeOutlined fontSize="small" />
              </IconButton>
            </span>
          </Tooltip>
        )}
      />
      {busy && <AiReplyPanel overlay state={ai.state} onStop={ai.stop} onOpen={ai.openLeftover} onRetry={ai.retry} />}
    </>
  );
}
