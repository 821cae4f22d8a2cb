"use client";

import ArrowBack from "@mui/icons-material/ArrowBack";
import KeyboardArrowDown from "@mui/icons-material/KeyboardArrowDown";
import KeyboardArrowUp from "@mui/icons-material/KeyboardArrowUp";
import Box from "@mui/material/Box";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";
import { useMemo } from "react";

import { useThread } from "@/api/thread";

import { ActionButtons } from "./ActionButtons";
import type { Folder, MailAction, ThreadSummary } from "./types";

interface ThreadToolbarProps {
  threadId: string;
  /** The thread's row in the list, when it is loaded there (its flags are patched at once). */
  row?: ThreadSummary;
  folders: readonly Folder[] | undefined;
  onBack: () => void;
  onAction: (action: MailAction, folder?: string) => void;
  onPrevious?: () => void;
  onNext?: () => void;
}

/** The open thread's toolbar: back, the actions, and newer/older. */
export function ThreadToolbar({ threadId, row, folders, onBack, onAction, onPrevious, onNext }: ThreadToolbarProps) {
  // Shares the thread view's query (same key), so it costs no extra request.
  const detail = useThread(threadId).data;
  const accountId = row?.account_id ?? detail?.account_id;
  const labels = row?.labels ?? detail?.labels;
  const starred = row?.starred ?? detail?.messages.some((message) => message.is_starred) ?? false;
  const unread = row ? row.unread : (detail?.unread_count ?? 0) > 0;
  const targets = useMemo(
    () => (accountId && folders ? folders.filter((folder) => folder.account_id === accountId) : null),
    [accountId, folders],
  );
  const current = useMemo(() => new Set(labels?.map((label) => label.folder_id)), [labels]);

  return (
    <Box
      role="toolbar"
      aria-label="Conversation actions"
      sx={{ display: "flex", alignItems: "center", gap: 0.5, minHeight: 48, px: 0.5, overflowX: "auto", overflowY: "hidden" }}
    >
      <Tooltip title="Back to the list (u)">
        <IconButton aria-label="Back to the list" onClick={onBack}>
          <ArrowBack />
        </IconButton>
      </Tooltip>
      <ActionButtons onAction={onAction} starred={starred} unread={unread} moveTargets={targets} currentFolders={current} />
      <Box sx={{ flex: 1 }} />
      <Tooltip title="Newer (k)">
        <span>
          <IconButton aria-label="Newer conversation" onClick={onPrevious} disabled={!onPrevious}>
            <KeyboardArrowUp />
          </IconButton>
        </span>
      </Tooltip>
      <Tooltip title="Older (j)">
        <span>
          <IconButton aria-label="Older conversation" onClick={onNext} disabled={!onNext}>
            <KeyboardArrowDown />
          </IconButton>
        </span>
      </Tooltip>
    </Box>
  );
}
