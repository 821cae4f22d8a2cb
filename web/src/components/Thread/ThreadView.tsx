"use client";

import ArrowBack from "@mui/icons-material/ArrowBack";
import SearchOff from "@mui/icons-material/SearchOff";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import ButtonBase from "@mui/material/ButtonBase";
import Chip from "@mui/material/Chip";
import IconButton from "@mui/material/IconButton";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import Link from "next/link";
import { lazy, Suspense, useEffect, useId, useRef, useState, type ReactNode } from "react";

import { ApiError } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useMarkThreadRead, useOwnAddresses, useThread, type Message, type ThreadDetail } from "@/api/thread";
import { ThreadReplyArea } from "@/components/Compose/ThreadReplyArea";

import { firstSight, nextSight, threadItems, type Seen } from "./folding";
import { MessageCard } from "./MessageCard";

// Lazy: the summary waits for the assistant anyway; the messages need not wait for its code.
const SummaryCard = lazy(() => import("@/components/Assistant/SummaryCard").then((m) => ({ default: m.SummaryCard })));

export interface ThreadViewProps {
  threadId: string;
  /** Shown as a back arrow when the thread has the screen to itself (phones, full width). */
  onBack?: () => void;
  /** The thread's actions (archive, delete, …), kept in view above it. */
  toolbar?: ReactNode;
}

/** How long a message that arrived while reading stays highlighted. */
const HIGHLIGHT_MS = 1_500;

const ROLE_NAMES: Record<string, string> = {
  inbox: "Inbox",
  sent: "Sent",
  drafts: "Drafts",
  trash: "Trash",
  junk: "Spam",
  archive: "Archive",
};

interface ViewState {
  seen: Seen;
  /** The reader's own openings and closings, over the defaults in `seen.open`. */
  toggled: ReadonlyMap<number, boolean>;
  /** Folds of older messages the reader opened. */
  unfolded: ReadonlySet<string>;
}

function Toolbar({ onBack, toolbar }: Pick<ThreadViewProps, "onBack" | "toolbar">) {
  if (onBack === undefined && toolbar === undefined) return null;
  return (
    <Box
      sx={{
        position: "sticky",
        top: 0,
        zIndex: 2,
        display: "flex",
        alignItems: "center",
        gap: 1,
        minHeight: 48,
        px: { xs: 0.5, sm: 1 },
        bgcolor: "background.default",
        borderBottom: 1,
        borderColor: "divider",
      }}
    >
      {/* A caller's toolbar carries its own back control: one is enough. */}
      {onBack !== undefined && toolbar === undefined && (
        <Tooltip title="Back to the list">
          <IconButton aria-label="Back to the list" onClick={onBack}>
            <ArrowBack />
          </IconButton>
        </Tooltip>
      )}
      <Box sx={{ flex: 1, minWidth: 0 }}>{toolbar}</Box>
    </Box>
  );
}

function ThreadSkeleton() {
  return (
    <Box aria-busy="true" aria-label="Loading the conversation" sx={{ p: { xs: 1.5, sm: 3 } }}>
      <Skeleton variant="text" sx={{ fontSize: 28, width: "60%", mb: 2 }} />
      <Stack spacing={1}>
        <Skeleton variant="rounded" height={56} />
        <Skeleton variant="rounded" height={56} />
        <Skeleton variant="rounded" height={280} />
      </Stack>
    </Box>
  );
}

function Gone({ onBack }: Pick<ThreadViewProps, "onBack">) {
  return (
    <Box sx={{ display: "grid", justifyItems: "center", gap: 2, py: 10, px: 2, textAlign: "center" }}>
      <SearchOff sx={{ fontSize: 48, color: "text.secondary" }} aria-hidden />
      <Typography component="h2" variant="h6">
        This conversation was deleted or moved
      </Typography>
      <Typography sx={{ color: "text.secondary" }}>It may be in another folder, or in Trash.</Typography>
      {onBack !== undefined ? (
        <Button variant="contained" onClick={onBack}>
          Back to the list
        </Button>
      ) : (
        <Button variant="contained" component={Link} href="/">
          Back to the inbox
        </Button>
      )}
    </Box>
  );
}

function OlderMessages({ count, onOpen }: { count: number; onOpen: () => void }) {
  return (
    <ButtonBase
      onClick={onOpen}
      aria-label={`Show ${count} older messages`}
      sx={{
        width: "100%",
        justifyContent: "flex-start",
        gap: 1.5,
        px: 2,
        py: 1,
        borderRadius: 1,
        color: "text.secondary",
        "&:hover": { bgcolor: "action.hover" },
        "&.Mui-focusVisible": { outline: 2, outlineStyle: "solid", outlineColor: "primary.main" },
      }}
    >
      <Box
        component="span"
        sx={{
          display: "grid",
          placeItems: "center",
          width: 32,
          height: 32,
          borderRadius: "50%",
          border: 1,
          borderColor: "divider",
          bgcolor: "background.paper",
          fontVariantNumeric: "tabular-nums",
          typography: "body2",
        }}
      >
        {count}
      </Box>
      <Typography variant="body2" component="span">
        {`${count} older messages`}
      </Typography>
    </ButtonBase>
  );
}

/** Open every unread message once: on first sight, and for any that arrive while reading. */
function useMarkReadOnView(thread: ThreadDetail | undefined, threadId: string) {
  const { mutate } = useMarkThreadRead();
  const marked = useRef<{ threadId: string; ids: Set<number> }>({ threadId, ids: new Set() });
  useEffect(() => {
    if (thread === undefined || thread.id !== threadId) return;
    if (marked.current.threadId !== threadId) marked.current = { threadId, ids: new Set() };
    const unread = thread.messages.filter((message) => !message.is_read && !marked.current.ids.has(message.id));
    if (unread.length === 0) return;
    for (const message of unread) marked.current.ids.add(message.id);
    mutate(threadId);
  }, [thread, threadId, mutate]);
}

/** A conversation: subject and labels, then its messages as cards, oldest first. */
export function ThreadView({ threadId, onBack, toolbar }: ThreadViewProps) {
  const query = useThread(threadId);
  const own = useOwnAddresses();
  const data = query.data;
  const subjectId = useId();
  const [view, setView] = useState<ViewState | null>(null);

  // What the reader has seen is kept from render to render: a refetch (live update) that
  // brings a new message opens and highlights it, and nothing else moves.
  let current = view;
  if (data !== undefined) {
    if (current === null || current.seen.threadId !== threadId) {
      current = { seen: firstSight(threadId, data.messages), toggled: new Map(), unfolded: new Set() };
    } else {
      const seen = nextSight(current.seen, data.messages);
      if (seen !== current.seen) current = { ...current, seen };
    }
    if (current !== view) setView(current);
  }

  const freshKey = [...(current?.seen.fresh ?? [])].join(",");
  useEffect(() => {
    if (freshKey === "") return;
    const timer = setTimeout(
      () => setView((state) => state && { ...state, seen: { ...state.seen, fresh: new Set() } }),
      HIGHLIGHT_MS,
    );
    return () => clearTimeout(timer);
  }, [freshKey]);

  useMarkReadOnView(data, threadId);

  // Gone also when it disappears while open (deleted elsewhere): the old copy is no use.
  const gone = query.error instanceof ApiError && query.error.status === 404;
  let content: ReactNode;
  if (query.isPending) {
    content = <ThreadSkeleton />;
  } else if (gone) {
    content = <Gone onBack={onBack} />;
  } else if (query.isError && data === undefined) {
    content = (
      <Box sx={{ p: { xs: 1.5, sm: 3 } }}>
        <Alert
          severity="error"
          action={
            <Button color="inherit" size="small" onClick={() => void query.refetch()}>
              Try again
            </Button>
          }
        >
          {`Couldn't open this conversation. ${errorMessage(query.error)}`}
        </Alert>
      </Box>
    );
  } else if (data !== undefined && current !== null) {
    content = <Conversation thread={data} state={current} own={own} setView={setView} subjectId={subjectId} />;
  }

  return (
    <Box component="section" aria-labelledby={data ? subjectId : undefined} sx={{ minWidth: 0 }}>
      <Toolbar onBack={onBack} toolbar={toolbar} />
      {content}
    </Box>
  );
}

interface ConversationProps {
  thread: ThreadDetail;
  state: ViewState;
  own: ReadonlySet<string>;
  setView: (update: (state: ViewState | null) => ViewState | null) => void;
  subjectId: string;
}

function Conversation({ thread, state, own, setView, subjectId }: ConversationProps) {
  const single = thread.messages.length === 1;
  const isExpanded = (message: Message) =>
    single || (state.toggled.get(message.id) ?? state.seen.open.has(message.id));
  const items = threadItems(thread.messages, isExpanded, state.unfolded);
  const labels = thread.labels.filter((label) => label.role !== "all");
  // Reply, reply all and forward answer the newest message that is not a draft.
  const newest = thread.messages.filter((message) => !message.is_draft).at(-1);

  const toggle = (message: Message) =>
    setView((view) => view && { ...view, toggled: new Map(view.toggled).set(message.id, !isExpanded(message)) });
  const unfold = (key: string) => setView((view) => view && { ...view, unfolded: new Set(view.unfolded).add(key) });

  return (
    <Box sx={{ px: { xs: 1, sm: 3 }, pt: { xs: 2, sm: 3 }, pb: 4 }}>
      <Box sx={{ display: "flex", flexWrap: "wrap", alignItems: "center", gap: 1, mb: 2, px: { xs: 0.5, sm: 0 } }}>
        <Typography
          id={subjectId}
          component="h2"
          variant="h5"
          sx={{ fontSize: { xs: 20, sm: 22 }, fontWeight: 500, overflowWrap: "anywhere", mr: 1 }}
        >
          {thread.subject.trim() || "(no subject)"}
        </Typography>
        {labels.map((label) => (
          <Chip
            key={label.folder_id}
            size="small"
            label={(label.role !== null && ROLE_NAMES[label.role]) || label.name}
          />
        ))}
      </Box>
      <Suspense fallback={null}>
        <SummaryCard threadId={thread.id} />
      </Suspense>
      <Stack spacing={1} component="div" role="list" aria-label="Messages">
        {items.map((item) =>
          item.kind === "fold" ? (
            <Box role="listitem" key={`fold-${item.key}`}>
              <OlderMessages count={item.messages.length} onOpen={() => unfold(item.key)} />
            </Box>
          ) : (
            <Box role="listitem" key={item.message.id}>
              <MessageCard
                message={item.message}
                expanded={item.expanded}
                onToggle={single ? undefined : () => toggle(item.message)}
                own={own}
                highlighted={state.seen.fresh.has(item.message.id)}
              />
            </Box>
          ),
        )}
      </Stack>
      {newest !== undefined && <ThreadReplyArea threadId={thread.id} message={newest} own={own} />}
    </Box>
  );
}
