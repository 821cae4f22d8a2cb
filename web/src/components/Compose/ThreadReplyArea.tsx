"use client";

import Forward from "@mui/icons-material/Forward";
import Reply from "@mui/icons-material/Reply";
import ReplyAll from "@mui/icons-material/ReplyAll";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import { lazy, Suspense, useEffect } from "react";

import type { Message } from "@/api/thread";
import { AiReplyButton, AiReplyPanel } from "@/components/Assistant/AiReply";
import { useAiReply } from "@/components/Assistant/useAiReply";

import { useCompose, useComposeInternals } from "./ComposeProvider";
import { canReplyAll } from "./replyTarget";

const ComposeWindow = lazy(() => import("./ComposeWindow").then((m) => ({ default: m.ComposeWindow })));

interface ThreadReplyAreaProps {
  threadId: string;
  /** The newest message: what the buttons answer. */
  message: Message;
  own: ReadonlySet<string>;
}

/**
 * The foot of a thread: Reply, Reply all and Forward, and in their place the replies being
 * written to this thread (inline, as in Gmail; on a phone they take the whole screen instead).
 */
export function ThreadReplyArea({ threadId, message, own }: ThreadReplyAreaProps) {
  const compose = useCompose();
  const internals = useComposeInternals();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  const register = internals?.registerInline;

  useEffect(() => {
    if (register === undefined || narrow) return;
    return register(threadId);
  }, [register, threadId, narrow]);

  const windows = narrow ? [] : (internals?.windows ?? []).filter((win) => win.threadId === threadId && !win.poppedOut);
  const writing = windows.some((win) => !win.hidden);
  // The assistant's reply streams here, then opens in the composer like any saved draft.
  const ai = useAiReply(threadId, (draft) => compose.openDraft(draft.id, draft));
  const aiBusy = ai.state.phase !== "idle";

  return (
    <Box sx={{ mt: 2 }}>
      {!writing && !aiBusy && (
        <Box role="group" aria-label="Answer" sx={{ display: "flex", flexWrap: "wrap", gap: 1, "& .MuiButton-root": { textTransform: "none", borderRadius: 5 } }}>
          <Button variant="outlined" startIcon={<Reply />} onClick={() => compose.openReply(message.id, "reply")}>
            Reply
          </Button>
          {canReplyAll(message, own) && (
            <Button variant="outlined" startIcon={<ReplyAll />} onClick={() => compose.openReply(message.id, "reply_all")}>
              Reply all
            </Button>
          )}
          <Button variant="outlined" startIcon={<Forward />} onClick={() => compose.openForward(message.id)}>
            Forward
          </Button>
          <AiReplyButton onWrite={ai.write} />
        </Box>
      )}
      {aiBusy && <AiReplyPanel state={ai.state} onStop={ai.stop} onOpen={ai.openLeftover} onRetry={ai.retry} />}
      {windows.length > 0 && (
        <Suspense fallback={null}>
          {windows.map((win) => (
            <ComposeWindow key={win.key} win={win} placement="inline" />
          ))}
        </Suspense>
      )}
    </Box>
  );
}
