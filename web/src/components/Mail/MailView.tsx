"use client";

import Box from "@mui/material/Box";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

import { useAccounts } from "@/api/accounts";
import type { InboxSection } from "@/api/keys";
import { isMove, useFolders, useThreadList } from "@/api/mail";
import { prefetchThread, useOwnAddresses } from "@/api/thread";
import { chipOfQuery } from "@/components/Assistant/categories";
import { InboxBar } from "@/components/Assistant/InboxBar";
import { useCompose } from "@/components/Compose/ComposeProvider";
import { newestMessageId } from "@/components/Compose/replyTarget";
import { useOpenedOnce, usePreloadOnIdle } from "@/components/lazy/lazy";

import { EmptyList } from "./EmptyList";
import { ListToolbar } from "./ListToolbar";
import { listParamsOf, mailHref, STARRED_QUERY, useMailLocation } from "./location";
import { PaneResizer } from "./PaneResizer";
import { rowHeight, useMailPreferences } from "./preferences";
import type { RowMenuTarget } from "./RowMenu";
import { useMailShortcuts, type ShortcutAction } from "./shortcuts";
import { ThreadList } from "./ThreadList";
import type { RowContext, RowHandlers } from "./ThreadRow";
import type { Folder, MailAction, ThreadSummary } from "./types";
import { useListState } from "./useListState";
import { useMailActions } from "./useMailActions";
import { currentFolderId, tabTitle, viewTitle } from "./viewInfo";

// Lazy: only a user without mailboxes sees it, once.
const FirstRun = lazy(() => import("@/components/FirstRun/FirstRun").then((m) => ({ default: m.FirstRun })));
// Lazy: the Drafts and Outbox views stand in for the thread list in those two places.
const DraftsView = lazy(() => import("@/components/Drafts/DraftsView").then((m) => ({ default: m.DraftsView })));
const OutboxView = lazy(() => import("@/components/Outbox/OutboxView").then((m) => ({ default: m.OutboxView })));
// Lazy: the first paint is the list; the thread's code is preloaded on idle so opening stays instant.
const loadThreadPane = () => Promise.all([import("@/components/Thread/ThreadView"), import("./ThreadToolbar")]);
const ThreadView = lazy(() => import("@/components/Thread/ThreadView").then((m) => ({ default: m.ThreadView })));
const ThreadToolbar = lazy(() => import("./ThreadToolbar").then((m) => ({ default: m.ThreadToolbar })));
// Lazy: the context menu, the `?` sheet and the action snackbar open on demand.
const RowMenu = lazy(() => import("./RowMenu").then((m) => ({ default: m.RowMenu })));
const ShortcutSheet = lazy(() => import("./ShortcutSheet").then((m) => ({ default: m.ShortcutSheet })));
const ActionSnackbar = lazy(() => import("./ActionSnackbar").then((m) => ({ default: m.ActionSnackbar })));
const loadOnDemand = () =>
  Promise.all([import("./RowMenu"), import("./MoveToMenu"), import("./ShortcutSheet"), import("./ActionSnackbar")]);

/** "Now", refreshed every minute, so "14:05" becomes "3 Dec" when the day turns. */
function useNow(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** What the rows say about a group of threads: one mailbox (for Move to…), starred, unread. */
function describe(threads: readonly ThreadSummary[], folders: readonly Folder[] | undefined) {
  const accounts = new Set(threads.map((thread) => thread.account_id));
  const [account] = accounts;
  return {
    starred: threads.length > 0 && threads.every((thread) => thread.starred),
    unread: threads.some((thread) => thread.unread),
    moveTargets:
      accounts.size === 1 && folders ? folders.filter((folder) => folder.account_id === account) : null,
    currentFolders: new Set(threads.flatMap((thread) => thread.labels.map((label) => label.folder_id))),
  };
}

const NO_ROWS: readonly ThreadSummary[] = [];

/** The mail screen: the list, the open thread beside it or in its place, and the keyboard. */
export function MailView() {
  const accounts = useAccounts();
  const { location } = useMailLocation();
  if (accounts.data?.length === 0)
    return (
      <Suspense fallback={null}>
        <FirstRun />
      </Suspense>
    );
  // Drafts and the outbox are Postwise's own lists (`/api/drafts`, `/api/outbox`), not folders
  // of threads: they never reach `/api/threads`. A search still searches mail.
  if (!location.q && (location.folder === "drafts" || location.folder === "outbox")) {
    const View = location.folder === "drafts" ? DraftsView : OutboxView;
    return (
      <Suspense fallback={null}>
        <View account={location.account} />
      </Suspense>
    );
  }
  return <MailScreen />;
}

function MailScreen() {
  const { location, go } = useMailLocation();
  const queryClient = useQueryClient();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  // Beside the list needs room for both: from 1200 px (the navigation takes 256 of it).
  const wide = useMediaQuery(theme.breakpoints.up("lg"));
  const [preferences, setPreferences] = useMailPreferences();
  const [dragWidth, setDragWidth] = useState<number | null>(null);
  const [sheetOpen, setSheetOpen] = useState(false);
  const [menu, setMenu] = useState<RowMenuTarget | null>(null);
  const now = useNow();
  const compose = useCompose();
  usePreloadOnIdle(loadThreadPane);
  usePreloadOnIdle(loadOnDemand);
  const menuUsed = useOpenedOnce(menu !== null);
  const sheetUsed = useOpenedOnce(sheetOpen);

  const accounts = useAccounts().data;
  const folders = useFolders().data;
  const { folder, account, q } = location;
  // The inbox split into the assistant's sections shows one of them at a time.
  const inInbox = !q && folder === "inbox";
  const section = inInbox && preferences.splitInbox ? preferences.inboxSection : undefined;
  const listParams = useMemo(
    () => ({ ...listParamsOf({ folder, account, q }), ...(section ? { section } : {}) }),
    [folder, account, q, section],
  );
  const listKey = JSON.stringify(listParams);
  const list = useThreadList(listParams);
  const items = useMemo(() => {
    // Live updates may put a thread on two pages for a moment; show it once.
    const seen = new Set<string>();
    return (list.data?.pages ?? []).flatMap((page) =>
      page.items.filter((thread) => !seen.has(thread.id) && seen.add(thread.id)),
    );
  }, [list.data]);
  const { selection, focusedId, setFocused, toggle, extend, selectAll, clear } = useListState(listKey, items);
  const openId = location.thread ?? null;
  const { run, feedback, dismiss } = useMailActions(listParams, folders);
  const snackbarUsed = useOpenedOnce(feedback !== null);

  const title = viewTitle(location, folders, accounts);
  useEffect(() => {
    document.title = tabTitle(location, title, folders);
  }, [location, title, folders]);

  const beside = preferences.readingPane === "beside" && wide;
  // Beside the reading pane the list is a column of about 480 px: two-line rows (as on a
  // phone) keep the subject and snippet readable there, as Gmail's vertical split does.
  const twoLine = narrow || beside;
  const height = rowHeight(preferences.density, twoLine);
  const ownAddresses = useOwnAddresses();
  const labelNames = useMemo(
    () => new Map((folders ?? []).map((entry) => [entry.id, entry.display_name || entry.name])),
    [folders],
  );
  const context: RowContext = useMemo(
    () => ({ ownAddresses, labelNames, currentFolder: currentFolderId(location, folders), narrow: twoLine, now }),
    [ownAddresses, labelNames, location, folders, twoLine, now],
  );

  // Event handlers read the latest render's values without being re-made on every change.
  const latest = useRef({ location, items, selection, focusedId, openId, beside });
  useLayoutEffect(() => {
    latest.current = { location, items, selection, focusedId, openId, beside };
  });

  const prefetch = useCallback((id: string) => void prefetchThread(queryClient, id), [queryClient]);
  const openThread = useCallback(
    (id: string, options?: { replace?: boolean }) => {
      setFocused(id);
      go({ ...latest.current.location, thread: id }, options);
    },
    [go, setFocused],
  );
  const closeThread = useCallback(() => {
    go({ ...latest.current.location, thread: undefined });
  }, [go]);

  /** Act, and when the open thread leaves the list, show the next one (or the list). */
  const act = useCallback(
    (action: MailAction, ids: readonly string[], target?: string) => {
      const { items: rows, openId: open, beside: besideNow } = latest.current;
      if (isMove(action) && ids.length > 0) {
        const gone = new Set(ids);
        const anchor = open ?? latest.current.focusedId;
        const index = rows.findIndex((thread) => thread.id === anchor);
        if (index >= 0 && gone.has(rows[index]!.id)) {
          const next =
            rows.slice(index + 1).find((thread) => !gone.has(thread.id)) ??
            rows.slice(0, index).reverse().find((thread) => !gone.has(thread.id));
          setFocused(next?.id ?? null);
          if (open && gone.has(open)) {
            if (besideNow && next) openThread(next.id, { replace: true });
            else closeThread();
          }
        }
      }
      run(action, ids, target);
    },
    [run, setFocused, openThread, closeThread],
  );

  const handlers: RowHandlers = useMemo(
    () => ({
      hrefOf: (id) => mailHref({ ...latest.current.location, thread: id }),
      open: (id) => openThread(id),
      toggleSelect: (id, shift) => (shift ? extend(id) : toggle(id)),
      extendSelect: (id) => extend(id),
      act: (action, id) => act(action, [id]),
    }),
    [openThread, toggle, extend, act],
  );

  // Back from a thread: the keyboard focus returns to its row.
  const wasOpen = useRef<string | null>(openId);
  useEffect(() => {
    const closed = wasOpen.current;
    wasOpen.current = openId;
    if (!closed || openId || beside) return;
    const frame = requestAnimationFrame(() => {
      document.querySelector<HTMLElement>(`[data-thread-id="${closed}"] .pw-link`)?.focus({ preventScroll: true });
    });
    return () => cancelAnimationFrame(frame);
  }, [openId, beside]);

  const targets = useCallback((): string[] => {
    const current = latest.current;
    if (current.selection.ids.size > 0) return [...current.selection.ids];
    const id = current.openId ?? current.focusedId;
    return id ? [id] : [];
  }, []);
  const rowsOf = useCallback(
    (ids: readonly string[]) => {
      const wanted = new Set(ids);
      return latest.current.items.filter((thread) => wanted.has(thread.id));
    },
    [],
  );

  const onShortcut = useCallback(
    (action: ShortcutAction) => {
      const current = latest.current;
      const rows = current.items;
      const position = rows.findIndex((thread) => thread.id === (current.focusedId ?? current.openId));
      const move = (step: number) => {
        const next = rows[Math.max(0, Math.min(rows.length - 1, position < 0 ? 0 : position + step))];
        if (!next) return;
        setFocused(next.id);
        if (current.openId) openThread(next.id, { replace: true });
        else prefetch(next.id);
        const after = rows[rows.indexOf(next) + step];
        if (after) prefetch(after.id);
      };
      const ids = targets();
      const chosen = rowsOf(ids);
      switch (action) {
        case "next":
          return move(1);
        case "previous":
          return move(-1);
        case "open":
          if (current.focusedId) openThread(current.focusedId);
          return;
        case "back":
          if (current.openId) closeThread();
          return;
        case "archive":
        case "trash":
        case "spam":
          return act(action, ids);
        case "star":
          return act(chosen.length > 0 && chosen.every((thread) => thread.starred) ? "unstar" : "star", ids);
        case "markRead":
          return act("read", ids);
        case "markUnread":
          return act("unread", ids);
        case "toggleSelect": {
          const id = current.focusedId ?? current.openId;
          if (id) toggle(id);
          return;
        }
        case "selectAll":
          return selectAll();
        case "selectNone":
          return clear();
        case "search":
          document.getElementById("mail-search-input")?.focus();
          return;
        case "goInbox":
          return go({ folder: "inbox", account: current.location.account });
        case "goStarred":
          return go({ q: STARRED_QUERY, account: current.location.account });
        case "goDrafts":
          return go({ folder: "drafts", account: current.location.account });
        case "compose":
          return compose.openNew();
        case "reply":
        case "replyAll":
        case "forward": {
          // The open thread's newest message, else the focused row's.
          const threadId = current.openId ?? current.focusedId;
          if (!threadId) return;
          void newestMessageId(queryClient, threadId).then((messageId) => {
            if (messageId === null) return;
            if (action === "forward") compose.openForward(messageId);
            else compose.openReply(messageId, action === "replyAll" ? "reply_all" : "reply");
          });
          return;
        }
        case "help":
          return setSheetOpen(true);
      }
    },
    [act, closeThread, go, openThread, prefetch, rowsOf, setFocused, toggle, selectAll, clear, targets, compose, queryClient],
  );
  useMailShortcuts(onShortcut, !sheetOpen);

  const onContextMenu = useCallback(
    (id: string, position: { top: number; left: number }) => {
      const { selection: checked } = latest.current;
      const ids = checked.ids.has(id) ? [...checked.ids] : [id];
      setFocused(id);
      setMenu({ position, threadIds: ids, ...describe(rowsOf(ids), folders) });
    },
    [folders, rowsOf, setFocused],
  );

  // With nothing checked, one constant: pages loaded while scrolling then leave the bulk actions,
  // and so the memoised toolbar, as they are.
  const selectedRows = useMemo(
    () => (selection.ids.size === 0 ? NO_ROWS : items.filter((thread) => selection.ids.has(thread.id))),
    [items, selection],
  );
  const bulkActions = useMemo(
    () => ({
      ...describe(selectedRows, folders),
      onAction: (action: MailAction, target?: string) => act(action, [...selection.ids], target),
    }),
    [selectedRows, folders, act, selection],
  );
  const { refetch } = list;
  const refresh = useCallback(() => void refetch(), [refetch]);
  const onSplit = useCallback((splitInbox: boolean) => setPreferences({ splitInbox }), [setPreferences]);
  const onSection = useCallback(
    (inboxSection: InboxSection) => setPreferences({ inboxSection }),
    [setPreferences],
  );
  const onFilter = useCallback(
    (query: string | undefined) => go({ folder: "inbox", account: latest.current.location.account, q: query }),
    [go],
  );
  const openRow = useMemo(() => items.find((thread) => thread.id === openId), [items, openId]);
  const openIndex = openRow ? items.indexOf(openRow) : -1;
  const listWidth = dragWidth ?? preferences.listWidth;
  const listHidden = openId !== null && !beside;

  const listPane = (
    <Box
      component="section"
      aria-label={`${title} conversations`}
      inert={listHidden || undefined}
      sx={{
        display: "flex",
        flexDirection: "column",
        minWidth: 0,
        minHeight: 0,
        bgcolor: "background.paper",
        ...(beside ? { flex: "none", width: listWidth, maxWidth: "60%" } : { flex: 1 }),
        // Hidden, not unmounted, behind a full-width thread: the list keeps its scroll position.
        ...(listHidden ? { visibility: "hidden", position: "absolute", inset: 0 } : {}),
      }}
    >
      <ListToolbar
        title={title}
        selectedCount={selection.ids.size}
        allSelected={items.length > 0 && selection.ids.size >= items.length}
        empty={items.length === 0}
        onSelectAll={selectAll}
        onSelectNone={clear}
        onRefresh={refresh}
        refreshing={list.isRefetching}
        actions={bulkActions}
      />
      {(inInbox || chipOfQuery(q) !== undefined) && (
        <InboxBar
          query={q}
          split={preferences.splitInbox}
          section={preferences.inboxSection}
          onSplit={onSplit}
          onSection={onSection}
          onFilter={onFilter}
        />
      )}
      <ThreadList
        label={section ? `${title} · ${section === "important" ? "Important" : "Everything else"}` : title}
        items={items}
        status={list.status}
        error={list.error}
        searchQuery={location.q ?? undefined}
        onRetry={() => void list.refetch()}
        hasNextPage={list.hasNextPage}
        isFetchingNextPage={list.isFetchingNextPage}
        loadMoreFailed={list.isFetchNextPageError}
        fetchNextPage={() => void list.fetchNextPage()}
        selectedIds={selection.ids}
        focusedId={focusedId}
        openId={openId}
        rowHeight={height}
        context={context}
        handlers={handlers}
        onPrefetch={prefetch}
        onContextMenu={onContextMenu}
        empty={
          <EmptyList
            location={location}
            title={title}
            section={section}
            onShowOther={() => setPreferences({ inboxSection: "other" })}
            onClearSearch={() => go({ folder: location.folder, account })}
          />
        }
      />
    </Box>
  );

  const threadPane = openId ? (
    <Box sx={{ flex: 1, minWidth: 0, minHeight: 0, overflow: "auto", bgcolor: "background.paper", position: "relative" }}>
      <Suspense fallback={null}>
        <ThreadView
          threadId={openId}
          onBack={closeThread}
          toolbar={
            <ThreadToolbar
              threadId={openId}
              row={openRow}
              folders={folders}
              onBack={closeThread}
              onAction={(action, target) => act(action, [openId], target)}
              onPrevious={openIndex > 0 ? () => openThread(items[openIndex - 1]!.id, { replace: true }) : undefined}
              onNext={
                openIndex >= 0 && openIndex < items.length - 1
                  ? () => openThread(items[openIndex + 1]!.id, { replace: true })
                  : undefined
              }
            />
          }
        />
      </Suspense>
    </Box>
  ) : beside ? (
    <NoThreadOpen />
  ) : null;

  return (
    <Box sx={{ display: "flex", flex: 1, minWidth: 0, minHeight: 0, height: "100%", position: "relative" }}>
      {listPane}
      {beside && (
        <PaneResizer
          width={listWidth}
          onResize={setDragWidth}
          onCommit={(width) => {
            setDragWidth(null);
            setPreferences({ listWidth: width });
          }}
        />
      )}
      {threadPane}
      <Suspense fallback={null}>
        {menuUsed && (
          <RowMenu
            target={menu}
            onClose={() => setMenu(null)}
            onOpen={(id) => openThread(id)}
            onAction={(action, ids, target) => act(action, ids, target)}
          />
        )}
        {sheetUsed && <ShortcutSheet open={sheetOpen} onClose={() => setSheetOpen(false)} />}
        {snackbarUsed && <ActionSnackbar feedback={feedback} onClose={dismiss} />}
      </Suspense>
    </Box>
  );
}

function NoThreadOpen() {
  return (
    <Box
      sx={{
        flex: 1,
        minWidth: 0,
        display: "flex",
        alignItems: "center",
        justifyContent: "center",
        color: "text.secondary",
        p: 3,
        textAlign: "center",
      }}
    >
      Choose a conversation to read it here. Press ? for keyboard shortcuts.
    </Box>
  );
}
