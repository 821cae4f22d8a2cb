"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import { useVirtualizer } from "@tanstack/react-virtual";
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  type FocusEvent as ReactFocusEvent,
  type MouseEvent as ReactMouseEvent,
  type PointerEvent as ReactPointerEvent,
  type ReactNode,
} from "react";

import { errorMessage } from "@/api/problem";
import { describeSearchError, searchProblemOf } from "@/api/search";

import { ListScroller, visuallyHidden } from "./listStyles";
import { ThreadRow, type RowContext, type RowHandlers } from "./ThreadRow";
import type { ThreadSummary } from "./types";

/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 20;
/** Placeholder rows after the last loaded one while more are on the way. */
const TAIL_ROWS = 3;
/** Skeleton rows on first load: about a screen. */
const FIRST_LOAD_ROWS = 12;
/** Hover this long before the thread under the pointer is fetched in the background. */
const HOVER_PREFETCH_MS = 80;

export interface ThreadListProps {
  /** The list's accessible name, e.g. "Inbox". */
  label: string;
  items: readonly ThreadSummary[];
  status: "pending" | "error" | "success";
  error: unknown;
  onRetry: () => void;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  loadMoreFailed: boolean;
  fetchNextPage: () => void;
  selectedIds: ReadonlySet<string>;
  focusedId: string | null;
  openId: string | null;
  rowHeight: number;
  context: RowContext;
  handlers: RowHandlers;
  onPrefetch: (id: string) => void;
  onContextMenu: (id: string, position: { top: number; left: number }) => void;
  /** What an empty list says, with its next action. */
  empty: ReactNode;
  /** The search shown, if any: a query the server refused is explained in its words. */
  searchQuery?: string;
}

/**
 * A row still on its way: grey bars where the row's parts will be. Plain elements styled by the
 * list's sheet (`.pw-skeleton`), not MUI Skeletons: during a fast scroll the tail rows mount
 * and unmount on many frames, and four emotion-styled components each, with an animation of
 * their own, cost those frames a visible part of their budget.
 */
function SkeletonRow({ height, start }: { height: number; start?: number }) {
  return (
    <div
      className="pw-row pw-skeleton"
      aria-hidden
      style={{ height, transform: start === undefined ? undefined : `translateY(${start}px)`, position: start === undefined ? "relative" : undefined }}
    >
      <span className="pw-bar pw-bar-box" />
      <span className="pw-bar" style={{ width: 160 }} />
      <span className="pw-bar pw-bar-fill" />
      <span className="pw-bar" style={{ width: 48 }} />
    </div>
  );
}

function rowIdAt(target: EventTarget | null): { id: string; row: HTMLElement } | null {
  const row = target instanceof Element ? target.closest<HTMLElement>("[data-thread-id]") : null;
  const id = row?.dataset.threadId;
  return row && id ? { id, row } : null;
}

/**
 * The virtualised conversation list: only the rows on screen exist, all of one fixed height,
 * so 100,000 threads scroll like 100. Pages load as the end comes near; rows arriving above
 * never move the row under the pointer or the focus bar.
 */
export function ThreadList(props: ThreadListProps) {
  const {
    label,
    items,
    status,
    error,
    onRetry,
    searchQuery,
    hasNextPage,
    isFetchingNextPage,
    loadMoreFailed,
    fetchNextPage,
    selectedIds,
    focusedId,
    openId,
    rowHeight,
    context,
    handlers,
    onPrefetch,
    onContextMenu,
    empty,
  } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const hoveredRef = useRef<string | null>(null);
  const hoverTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const tail = hasNextPage && !loadMoreFailed ? TAIL_ROWS : 0;

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualiser is read in render on purpose; rows are memoised by their own props
  const virtualizer = useVirtualizer({
    count: items.length + tail,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 10,
    getItemKey: (index) => items[index]?.id ?? `tail-${index}`,
    // Rendered by React's scheduler, not inside each scroll event (flushSync): the wheel steps
    // that arrive before a frame make one render instead of one each (bench/web's traces
    // had about 7 ms of script per scroll event, every event).
    useFlushSync: false,
  });

  useEffect(() => {
    virtualizer.measure();
  }, [rowHeight, virtualizer]);

  // The row that last had keyboard focus, so focus can move on when that row leaves the list.
  const focusedRow = useRef<{ id: string; index: number } | null>(null);
  const onFocus = useCallback((event: ReactFocusEvent) => {
    const found = rowIdAt(event.target);
    const index = found ? Number(found.row.getAttribute("aria-posinset")) - 1 : -1;
    focusedRow.current = found && index >= 0 ? { id: found.id, index } : null;
  }, []);

  // Keep the anchor row where it is on screen when rows are added or removed above it.
  const previous = useRef<readonly ThreadSummary[]>(items);
  useLayoutEffect(() => {
    const before = previous.current;
    previous.current = items;
    const scroller = scrollRef.current;
    if (!scroller || before === items || before.length === 0) return;
    const lost = focusedRow.current;
    if (lost && !items.some((thread) => thread.id === lost.id)) {
      focusedRow.current = null;
      // The focused row was archived or moved: focus goes to the row that took its place.
      const heir = items[Math.min(lost.index, items.length - 1)];
      if (heir && (document.activeElement === document.body || document.activeElement === null)) {
        requestAnimationFrame(() =>
          scroller.querySelector<HTMLElement>(`[data-thread-id="${heir.id}"] .pw-link`)?.focus({ preventScroll: true }),
        );
      }
    }
    const firstVisible = before[Math.floor(scroller.scrollTop / rowHeight)]?.id;
    const focusedVisible = (() => {
      if (focusedId === null) return false;
      const index = before.findIndex((thread) => thread.id === focusedId);
      const top = index * rowHeight;
      return index >= 0 && top + rowHeight > scroller.scrollTop && top < scroller.scrollTop + scroller.clientHeight;
    })();
    const anchor =
      hoveredRef.current ?? (focusedVisible ? focusedId : null) ?? (scroller.scrollTop > 0 ? firstVisible : null);
    if (!anchor) return;
    const from = before.findIndex((thread) => thread.id === anchor);
    const to = items.findIndex((thread) => thread.id === anchor);
    if (from < 0 || to < 0 || from === to) return;
    virtualizer.scrollToOffset(scroller.scrollTop + (to - from) * rowHeight);
  }, [items, rowHeight, focusedId, virtualizer]);

  // The focus bar stays on screen; DOM focus follows it when it is already in the list.
  useEffect(() => {
    if (focusedId === null) return;
    const index = items.findIndex((thread) => thread.id === focusedId);
    if (index < 0) return;
    virtualizer.scrollToIndex(index, { align: "auto" });
    const scroller = scrollRef.current;
    if (!scroller?.contains(document.activeElement) || document.activeElement === scroller) return;
    const frame = requestAnimationFrame(() => {
      scroller.querySelector<HTMLElement>(`[data-thread-id="${focusedId}"] .pw-link`)?.focus({ preventScroll: true });
    });
    return () => cancelAnimationFrame(frame);
    // Only a move of the focus bar scrolls; new rows arriving must not.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focusedId]);

  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.at(-1)?.index ?? -1;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !loadMoreFailed && lastIndex >= items.length - PREFETCH_ROWS) {
      fetchNextPage();
    }
  }, [lastIndex, items.length, hasNextPage, isFetchingNextPage, loadMoreFailed, fetchNextPage]);

  useEffect(() => () => clearTimeout(hoverTimer.current), []);

  // Rows that pass under a resting pointer while the list scrolls are not hovered by anyone:
  // a fling would fetch a thread every few wheel steps (bench/web counted 136 in 10 s).
  const scrolledAt = useRef(0);
  const onScroll = useCallback(() => {
    scrolledAt.current = performance.now();
    clearTimeout(hoverTimer.current);
  }, []);
  const onPointerOver = useCallback(
    (event: ReactPointerEvent) => {
      const id = rowIdAt(event.target)?.id ?? null;
      if (id === hoveredRef.current) return;
      hoveredRef.current = id;
      clearTimeout(hoverTimer.current);
      const scrolling = performance.now() - scrolledAt.current < HOVER_PREFETCH_MS;
      if (id && event.pointerType === "mouse" && !scrolling) {
        hoverTimer.current = setTimeout(() => onPrefetch(id), HOVER_PREFETCH_MS);
      }
    },
    [onPrefetch],
  );
  const onPointerLeave = useCallback(() => {
    hoveredRef.current = null;
    clearTimeout(hoverTimer.current);
  }, []);
  const onContext = useCallback(
    (event: ReactMouseEvent) => {
      const found = rowIdAt(event.target);
      if (!found) return;
      event.preventDefault();
      // The keyboard's menu key reports no pointer position: open by the row.
      let { clientX: left, clientY: top } = event;
      if (left === 0 && top === 0) {
        const rect = found.row.getBoundingClientRect();
        left = rect.left + 48;
        top = rect.top + rect.height / 2;
      }
      onContextMenu(found.id, { top, left });
    },
    [onContextMenu],
  );

  const narrow = context.narrow;
  if (status === "pending") {
    return (
      <ListScroller data-narrow={narrow || undefined} aria-busy="true" aria-label={label}>
        <span role="status" style={visuallyHidden}>
          Loading conversations
        </span>
        {Array.from({ length: FIRST_LOAD_ROWS }, (_, n) => (
          <SkeletonRow key={n} height={rowHeight} />
        ))}
      </ListScroller>
    );
  }
  if (status === "error") {
    // A search the server cannot read is the user's query, not a failure: say what to fix.
    const searchProblem = searchProblemOf(error) !== undefined;
    return (
      <ListScroller aria-label={label} sx={{ p: 2 }}>
        <Alert
          severity={searchProblem ? "warning" : "error"}
          action={
            searchProblem ? undefined : (
              <Button color="inherit" size="small" onClick={onRetry}>
                Try again
              </Button>
            )
          }
        >
          {searchProblem
            ? describeSearchError(error, searchQuery)
            : `Couldn’t load these conversations. ${errorMessage(error)}`}
        </Alert>
      </ListScroller>
    );
  }
  if (items.length === 0) return <>{empty}</>;

  return (
    <ListScroller
      ref={scrollRef}
      data-narrow={narrow || undefined}
      data-shortcut-scope=""
      tabIndex={-1}
      onPointerOver={onPointerOver}
      onPointerLeave={onPointerLeave}
      onScroll={onScroll}
      onContextMenu={onContext}
      onFocus={onFocus}
    >
      <div className="pw-rows" role="list" aria-label={label} style={{ height: virtualizer.getTotalSize() }}>
        {virtualItems.map((item) => {
          const thread = items[item.index];
          if (!thread) return <SkeletonRow key={item.key} height={rowHeight} start={item.start} />;
          return (
            <ThreadRow
              key={item.key}
              thread={thread}
              index={item.index}
              setSize={hasNextPage ? -1 : items.length}
              start={item.start}
              height={rowHeight}
              selected={selectedIds.has(thread.id)}
              focused={thread.id === focusedId}
              open={thread.id === openId}
              context={context}
              handlers={handlers}
            />
          );
        })}
      </div>
      {loadMoreFailed && (
        <Alert
          severity="warning"
          sx={{ m: 1 }}
          action={
            <Button color="inherit" size="small" onClick={fetchNextPage}>
              Try again
            </Button>
          }
        >
          Couldn’t load more conversations.
        </Alert>
      )}
    </ListScroller>
  );
}
