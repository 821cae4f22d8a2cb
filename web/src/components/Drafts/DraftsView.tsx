"use client";

import DraftsOutlined from "@mui/icons-material/DraftsOutlined";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useCallback, useRef, useState } from "react";

import { useDeleteDraft } from "@/api/compose";
import { useDraftList, type DraftSummary } from "@/api/outbox";
import { errorMessage } from "@/api/problem";
import { useCompose } from "@/components/Compose/ComposeProvider";
import { rowHeight, useMailPreferences } from "@/components/Mail/preferences";

import { DraftRow } from "./DraftRow";
import { ListEmpty, ListScreen, useListTitle } from "./ListParts";
import { useNow } from "./rows";
import { useRowKeys } from "./useRowKeys";

/** The Drafts view: what the user has started writing, newest first; a click opens it. */
export function DraftsView({ account }: { account?: string }) {
  const drafts = useDraftList(account);
  const { openDraft, openNew } = useCompose();
  const discard = useDeleteDraft();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  const [preferences] = useMailPreferences();
  const height = rowHeight(preferences.density, narrow);
  const now = useNow(60_000);
  const title = useListTitle("Drafts", account);
  const [confirming, setConfirming] = useState<DraftSummary | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);

  const items = drafts.data ?? [];
  const byId = useCallback((id: string) => drafts.data?.find((draft) => draft.id === id), [drafts.data]);
  const { focusedId, setFocused } = useRowKeys({
    ids: items.map((draft) => draft.id),
    container: listRef,
    onOpen: openDraft,
    onDelete: (id) => setConfirming(byId(id) ?? null),
    enabled: confirming === null,
  });

  const confirmDiscard = () => {
    const draft = confirming;
    setConfirming(null);
    if (!draft) return;
    discard.mutate(draft.id, {
      onSuccess: () => setNotice("Draft discarded"),
      onError: (error) => setNotice(`Couldn’t discard the draft. ${errorMessage(error)}`),
    });
  };

  return (
    <ListScreen
      title={title}
      what="your drafts"
      query={drafts}
      count={items.length}
      rowHeight={height}
      narrow={narrow}
      listRef={listRef}
      notice={notice}
      onNoticeClose={() => setNotice(null)}
      dialogs={<DiscardDialog draft={confirming} onCancel={() => setConfirming(null)} onConfirm={confirmDiscard} />}
      empty={
        <ListEmpty
          icon={<DraftsOutlined sx={{ fontSize: 48 }} aria-hidden />}
          heading="No drafts"
          detail="What you start writing is saved here as you type, until you send it."
          action={{ label: "Compose", onClick: () => openNew() }}
        />
      }
    >
      {items.map((draft) => (
        <DraftRow
          key={draft.id}
          draft={draft}
          height={height}
          focused={draft.id === focusedId}
          narrow={narrow}
          now={now}
          onOpen={openDraft}
          onFocus={setFocused}
          onDelete={setConfirming}
        />
      ))}
    </ListScreen>
  );
}

function DiscardDialog({ draft, onCancel, onConfirm }: { draft: DraftSummary | null; onCancel: () => void; onConfirm: () => void }) {
  const subject = draft?.subject.trim() || "(no subject)";
  return (
    <Dialog open={draft !== null} onClose={onCancel} aria-labelledby="discard-draft-title" aria-describedby="discard-draft-text">
      <DialogTitle id="discard-draft-title">Discard this draft?</DialogTitle>
      <DialogContent>
        <DialogContentText id="discard-draft-text">
          “{subject}” will be deleted here and from your mailbox’s Drafts folder. This can’t be undone.
        </DialogContentText>
      </DialogContent>
      <DialogActions>
        <Button onClick={onCancel}>Keep it</Button>
        <Button color="error" variant="contained" onClick={onConfirm} autoFocus>
          Discard
        </Button>
      </DialogActions>
    </Dialog>
  );
}
