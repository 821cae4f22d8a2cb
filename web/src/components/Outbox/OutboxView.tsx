"use client";

import OutboxOutlined from "@mui/icons-material/OutboxOutlined";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useCallback, useMemo, useRef, useState } from "react";

import { useCancelSend } from "@/api/compose";
import { useOutbox, type OutboxEntry } from "@/api/outbox";
import { errorMessage } from "@/api/problem";
import { useCompose } from "@/components/Compose/ComposeProvider";
import { ListEmpty, ListScreen, useListTitle } from "@/components/Drafts/ListParts";
import { useNow } from "@/components/Drafts/rows";
import { useRowKeys } from "@/components/Drafts/useRowKeys";
import { mailHref, useMailLocation } from "@/components/Mail/location";
import { rowHeight, useMailPreferences } from "@/components/Mail/preferences";

import { OutboxRow } from "./OutboxRow";
import { outboxStatus } from "./status";

/** Countdowns move twice a second, so "8 s" never lingers a whole second late. */
const TICK_MS = 500;

/** Why a cancel failed, in words. */
export function cancelErrorMessage(error: unknown): string {
  return errorMessage(error, {
    already_sent: "Too late: the message has already left.",
    not_found: "This message is no longer in the outbox.",
  });
}

/** Where a sent message can be read: its conversation in Sent. */
function sentHref(entry: OutboxEntry): string | undefined {
  return entry.status === "sent" && entry.thread_id ? mailHref({ folder: "sent", thread: entry.thread_id }) : undefined;
}

/**
 * The outbox: messages waiting out the undo window or their scheduled time, on their way, not
 * sent (with the server's reason), and those sent in the last day. Waiting ones can be taken
 * back into a draft; failed ones reopened to fix and send again.
 */
export function OutboxView({ account }: { account?: string }) {
  const outbox = useOutbox();
  const cancel = useCancelSend();
  const { openDraft } = useCompose();
  const { go } = useMailLocation();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  const [preferences] = useMailPreferences();
  // Phones show a third line, the status, under recipients and subject.
  const height = rowHeight(preferences.density, narrow) + (narrow ? 20 : 0);
  const title = useListTitle("Outbox", account);
  const [notice, setNotice] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);

  const items = useMemo(
    () => (outbox.data ?? []).filter((entry) => account === undefined || entry.account_id === account),
    [outbox.data, account],
  );
  // Only queued entries count down; otherwise the dates need "now" once a minute.
  const now = useNow(items.some((entry) => entry.status === "queued") ? TICK_MS : 60_000);
  const statuses = useMemo(() => new Map(items.map((entry) => [entry.id, outboxStatus(entry, now)])), [items, now]);

  const openSent = useCallback(
    (entry: OutboxEntry) => {
      if (entry.thread_id) go({ folder: "sent", thread: entry.thread_id });
    },
    [go],
  );
  const { focusedId, setFocused } = useRowKeys({
    ids: items.map((entry) => entry.id),
    container: listRef,
    onOpen: (id) => {
      const entry = items.find((candidate) => candidate.id === id);
      if (entry) openSent(entry);
    },
    enabled: true,
  });

  /** Queued: take it back before it leaves. Failed: the same, to fix it. Either way, open the draft. */
  const takeBack = (entry: OutboxEntry) =>
    cancel.mutate(entry.id, {
      onSuccess: (draft) => openDraft(draft.id, draft),
      onError: (error) => setNotice(cancelErrorMessage(error)),
    });

  return (
    <ListScreen
      title={title}
      what="the outbox"
      query={outbox}
      count={items.length}
      rowHeight={height}
      narrow={narrow}
      listRef={listRef}
      notice={notice}
      onNoticeClose={() => setNotice(null)}
      empty={
        <ListEmpty
          icon={<OutboxOutlined sx={{ fontSize: 48 }} aria-hidden />}
          heading="Nothing waiting to be sent"
          detail="Messages wait here while you can still undo them, until their scheduled time, or when they couldn’t be sent."
          action={{ label: "Go to Sent", onClick: () => go({ folder: "sent", account }) }}
        />
      }
    >
      {items.map((entry) => (
        <OutboxRow
          key={entry.id}
          entry={entry}
          status={statuses.get(entry.id)!}
          height={height}
          focused={entry.id === focusedId}
          narrow={narrow}
          busy={cancel.isPending && cancel.variables === entry.id}
          href={sentHref(entry)}
          onOpenSent={openSent}
          onFocus={setFocused}
          onCancel={takeBack}
        />
      ))}
    </ListScreen>
  );
}
