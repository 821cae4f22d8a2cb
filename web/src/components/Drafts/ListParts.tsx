"use client";

import Refresh from "@mui/icons-material/Refresh";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Skeleton from "@mui/material/Skeleton";
import Snackbar from "@mui/material/Snackbar";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useEffect, type ReactNode, type Ref } from "react";

import { useAccounts } from "@/api/accounts";
import { errorMessage } from "@/api/problem";
import { visuallyHidden } from "@/components/Mail/listStyles";

import { RowList } from "./rows";

/** "Drafts", or "Drafts · Work" for one mailbox's. */
export function useListTitle(name: string, account: string | undefined): string {
  const accounts = useAccounts().data;
  const found = account ? accounts?.find((candidate) => candidate.id === account) : undefined;
  const title = found ? `${name} · ${found.display_name || found.email}` : name;
  useEffect(() => {
    document.title = `${title} — Postwise`;
  }, [title]);
  return title;
}

/** Above the list: its name and a refresh, at the thread list toolbar's height. */
export function ListHeader({ title, onRefresh, refreshing }: { title: string; onRefresh: () => void; refreshing: boolean }) {
  return (
    <Box
      role="toolbar"
      aria-label={`${title} list`}
      sx={{ display: "flex", alignItems: "center", gap: 0.5, minHeight: 48, pl: 2, pr: 0.5, borderBottom: 1, borderColor: "divider", flex: "none" }}
    >
      <Typography variant="h6" component="h1" noWrap sx={{ fontSize: 18, fontWeight: 600, flex: 1, minWidth: 0 }}>
        {title}
      </Typography>
      <Tooltip title="Refresh">
        <span>
          <IconButton aria-label="Refresh" onClick={onRefresh} disabled={refreshing}>
            <Refresh />
          </IconButton>
        </span>
      </Tooltip>
    </Box>
  );
}

/** Placeholder rows of the real rows' height while the list loads. */
export function ListSkeleton({ label, rowHeight, narrow }: { label: string; rowHeight: number; narrow: boolean }) {
  return (
    <RowList data-narrow={narrow || undefined} aria-busy="true" aria-label={label}>
      <span role="status" style={visuallyHidden}>
        Loading {label.toLowerCase()}
      </span>
      {Array.from({ length: 6 }, (_, n) => (
        <div key={n} className="pw-row" aria-hidden style={{ height: rowHeight }}>
          <Skeleton variant="text" width={160} sx={{ flex: "none", fontSize: 14, ml: 1.5 }} />
          <Skeleton variant="text" sx={{ flex: 1, fontSize: 14, mx: 1 }} />
          <Skeleton variant="text" width={48} sx={{ flex: "none", fontSize: 14 }} />
        </div>
      ))}
    </RowList>
  );
}

export function ListError({ what, error, onRetry }: { what: string; error: unknown; onRetry: () => void }) {
  return (
    <Box sx={{ p: 2 }}>
      <Alert
        severity="error"
        action={
          <Button color="inherit" size="small" onClick={onRetry}>
            Try again
          </Button>
        }
      >
        {`Couldn’t load ${what}. ${errorMessage(error)}`}
      </Alert>
    </Box>
  );
}

interface ListEmptyProps {
  icon: ReactNode;
  heading: string;
  detail?: string;
  action?: { label: string; onClick: () => void };
}

/** An empty list says so and offers the next step. */
export function ListEmpty({ icon, heading, detail, action }: ListEmptyProps) {
  return (
    <Box
      role="status"
      sx={{
        flex: 1,
        display: "flex",
        flexDirection: "column",
        alignItems: "center",
        justifyContent: "center",
        gap: 1,
        p: 4,
        color: "text.secondary",
        textAlign: "center",
      }}
    >
      {icon}
      <Typography variant="h6" component="p" color="text.primary">
        {heading}
      </Typography>
      {detail && <Typography variant="body2">{detail}</Typography>}
      {action && (
        <Button variant="outlined" onClick={action.onClick} sx={{ mt: 1 }}>
          {action.label}
        </Button>
      )}
    </Box>
  );
}

interface ListScreenProps {
  title: string;
  /** What failed to load, in words: "your drafts". */
  what: string;
  query: { isPending: boolean; isError: boolean; error: unknown; isRefetching: boolean; refetch: () => unknown };
  count: number;
  rowHeight: number;
  narrow: boolean;
  listRef: Ref<HTMLDivElement>;
  /** Shown when the list is empty. */
  empty: ReactNode;
  /** A short message at the foot of the screen (what an action did, or why it failed). */
  notice: string | null;
  onNoticeClose: () => void;
  /** The rows. */
  children: ReactNode;
  /** Dialogs the screen opens. */
  dialogs?: ReactNode;
}

/** A list screen: header, then skeleton, error, empty state or the rows, and a snackbar. */
export function ListScreen(props: ListScreenProps) {
  const { title, what, query, count, rowHeight, narrow, listRef, empty, notice, onNoticeClose, children, dialogs } = props;
  let body: ReactNode;
  if (query.isPending) body = <ListSkeleton label={title} rowHeight={rowHeight} narrow={narrow} />;
  else if (query.isError) body = <ListError what={what} error={query.error} onRetry={() => void query.refetch()} />;
  else if (count === 0) body = empty;
  else
    body = (
      <RowList ref={listRef} data-narrow={narrow || undefined}>
        <div role="list" aria-label={title}>
          {children}
        </div>
      </RowList>
    );
  return (
    <Box
      component="section"
      aria-label={title}
      sx={{ display: "flex", flexDirection: "column", flex: 1, minWidth: 0, minHeight: 0, height: "100%", bgcolor: "background.paper" }}
    >
      <ListHeader title={title} onRefresh={() => void query.refetch()} refreshing={query.isRefetching} />
      {body}
      {dialogs}
      <Snackbar
        open={notice !== null}
        message={notice}
        autoHideDuration={6000}
        onClose={onNoticeClose}
        anchorOrigin={{ vertical: "bottom", horizontal: "left" }}
      />
    </Box>
  );
}
