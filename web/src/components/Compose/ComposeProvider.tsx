"use client";

import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import {
  createContext,
  lazy,
  Suspense,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type Dispatch,
  type ReactNode,
  type SetStateAction,
} from "react";

import type { Draft, Recipient } from "@/api/compose";
import { composeKeys, mailKeys } from "@/api/keys";
import type { ThreadDetail } from "@/api/thread";
import { useMe } from "@/api/users";
import { onIdle, useOpenedOnce } from "@/components/lazy/lazy";
import { onLiveEvent } from "@/live/bus";

import type { ComposeNotice } from "./notice";
import type { ComposeIntent, ComposeSession } from "./session";

/**
 * The composer's home: which compose windows are open, their drafts (sessions), the snackbar
 * ("Sending…" with Undo) and what the live socket says about the outbox. Mounted once in the
 * signed-in shell and kept small: the windows, the editor, the snackbar and the send/close
 * actions (windowActions.ts) load on first use, and are preloaded when the browser is idle.
 */

export interface ComposeApi {
  openNew(prefill?: { to?: Recipient[]; subject?: string }): void;
  openReply(messageId: number, mode: "reply" | "reply_all"): void;
  openForward(messageId: number): void;
  /** Open a saved draft; `draft` (when the caller has it) saves a round trip. */
  openDraft(draftId: string, draft?: Draft): void;
}

export interface ComposeWindowState {
  key: string;
  intent: ComposeIntent;
  /** The conversation it answers: shown inline there while that thread is open. */
  threadId: string | null;
  minimized: boolean;
  maximized: boolean;
  /** Closing or sending: out of sight, while its last save or the send is on its way. */
  hidden: boolean;
  /** Floating even while its thread is open. */
  poppedOut: boolean;
  /** Changes when the window should take the keyboard focus. */
  focusToken: number;
}

/** What the composer's own parts (windows, inline replies, actions) share. */
export interface ComposeInternals {
  windows: readonly ComposeWindowState[];
  sessions: Map<string, ComposeSession>;
  inlineThreads: ReadonlySet<string>;
  registerInline(threadId: string): () => void;
  update(key: string, patch: Partial<ComposeWindowState>): void;
  /** Show the window (again) and give it the focus. */
  focus(key: string): void;
  /** Forget the window and its session. */
  remove(key: string): void;
  giveFocusBack(key: string): void;
  setNotice: Dispatch<SetStateAction<ComposeNotice | null>>;
  nextNoticeId(): number;
  undoSeconds: number;
  /** Sends whose Undo was pressed before the server had answered. */
  undoAsked: Set<number>;
  queryClient: QueryClient;
  compose: ComposeApi;
}

/** At most this many windows at once; opening another closes (and saves) the oldest. */
export const MAX_WINDOWS = 3;

const noop = () => undefined;
const ComposeContext = createContext<ComposeApi>({
  openNew: noop,
  openReply: noop,
  openForward: noop,
  openDraft: noop,
});
const InternalsContext = createContext<ComposeInternals | null>(null);

/** Open compose windows from anywhere in the signed-in app. */
export function useCompose(): ComposeApi {
  return useContext(ComposeContext);
}

/** For the composer's own parts (windows, inline replies). */
export function useComposeInternals(): ComposeInternals | null {
  return useContext(InternalsContext);
}

const loadActions = () => import("./windowActions");
const loadDock = () => import("./ComposeDock");
const ComposeDock = lazy(() => loadDock().then((m) => ({ default: m.ComposeDock })));
const ComposeSnackbar = lazy(() => import("./ComposeSnackbar").then((m) => ({ default: m.ComposeSnackbar })));
const preload = () =>
  Promise.all([loadDock(), loadActions(), import("./RichEditor"), import("./ComposeSnackbar")]).catch(() => undefined);

/** The thread a message belongs to, if an open (cached) thread holds it. */
function threadOfMessage(queryClient: QueryClient, messageId: number): string | null {
  for (const [, thread] of queryClient.getQueriesData<ThreadDetail>({ queryKey: mailKeys.thread("").slice(0, 1) })) {
    if (thread?.messages?.some((message) => message.id === messageId)) return thread.id;
  }
  return null;
}

function sameIntent(a: ComposeIntent, b: ComposeIntent): boolean {
  if (a.kind === "draft" && b.kind === "draft") return a.draftId === b.draftId;
  if (a.kind === "reply" && b.kind === "reply") return a.messageId === b.messageId && a.mode === b.mode;
  if (a.kind === "forward" && b.kind === "forward") return a.messageId === b.messageId;
  return false;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

let windowCounter = 0;
let noticeCounter = 0;
const nextNoticeId = () => ++noticeCounter;

export function ComposeProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [windows, setWindows] = useState<ComposeWindowState[]>([]);
  const [inlineThreads, setInlineThreads] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<ComposeNotice | null>(null);
  // Kept for the provider's life: sessions outlive the windows that show them.
  const [sessions] = useState(() => new Map<string, ComposeSession>());
  const [returnFocus] = useState(() => new Map<string, Element | null>());
  const [undoAsked] = useState(() => new Set<number>());
  const latest = useRef(windows);
  useEffect(() => {
    latest.current = windows;
  });
  const undoSeconds = useMe().data?.send_undo_seconds ?? 10;
  const dockUsed = useOpenedOnce(windows.length > 0);
  const snackbarUsed = useOpenedOnce(notice !== null);

  useEffect(() => onIdle(() => void preload(), 4_000), []);

  const update = useCallback((key: string, patch: Partial<ComposeWindowState>) => {
    setWindows((list) => list.map((item) => (item.key === key ? { ...item, ...patch } : item)));
  }, []);

  const focus = useCallback((key: string) => {
    setWindows((list) =>
      list.map((item) =>
        item.key === key ? { ...item, hidden: false, minimized: false, focusToken: item.focusToken + 1 } : item,
      ),
    );
  }, []);

  const remove = useCallback(
    (key: string) => {
      sessions.get(key)?.dispose();
      sessions.delete(key);
      setWindows((list) => list.filter((item) => item.key !== key));
    },
    [sessions],
  );

  const giveFocusBack = useCallback(
    (key: string) => {
      const target = returnFocus.get(key);
      returnFocus.delete(key);
      const active = document.activeElement;
      const inWindow = active instanceof Element && active.closest(`[data-compose-key="${key}"]`) !== null;
      if ((inWindow || active === document.body) && target instanceof HTMLElement && target.isConnected) {
        target.focus({ preventScroll: true });
      }
    },
    [returnFocus],
  );

  const registerInline = useCallback((threadId: string) => {
    setInlineThreads((set) => new Set(set).add(threadId));
    return () =>
      setInlineThreads((set) => {
        const next = new Set(set);
        next.delete(threadId);
        return next;
      });
  }, []);

  // The actions read the latest of these when they run.
  const internals = useRef<ComposeInternals | null>(null);
  const withActions = useCallback((run: (actions: Awaited<ReturnType<typeof loadActions>>, ctx: ComposeInternals) => unknown) => {
    void loadActions().then((actions) => internals.current && run(actions, internals.current));
  }, []);

  const open = useCallback(
    (intent: ComposeIntent, threadId: string | null) => {
      const existing = latest.current.find(
        (item) => sameIntent(item.intent, intent) || (intent.kind === "draft" && sessions.get(item.key)?.draftId === intent.draftId),
      );
      if (existing) return focus(existing.key);
      const key = `compose-${++windowCounter}`;
      returnFocus.set(key, document.activeElement);
      const shown = latest.current.filter((item) => !item.hidden);
      if (shown.length >= MAX_WINDOWS) withActions((actions, ctx) => actions.closeWindow(ctx, shown[0]!.key));
      const win = { key, intent, threadId, minimized: false, maximized: false, hidden: false, poppedOut: false, focusToken: 1 };
      latest.current = [...latest.current, win];
      setWindows((list) => [...list, win]);
    },
    [sessions, focus, returnFocus, withActions],
  );

  const compose: ComposeApi = useMemo(
    () => ({
      openNew: (prefill) => open({ kind: "new", ...prefill }, null),
      openReply: (messageId, mode) => open({ kind: "reply", messageId, mode }, threadOfMessage(queryClient, messageId)),
      openForward: (messageId) => open({ kind: "forward", messageId }, threadOfMessage(queryClient, messageId)),
      openDraft: (draftId, draft) => open({ kind: "draft", draftId, draft }, draft?.thread_id ?? null),
    }),
    [open, queryClient],
  );

  const value: ComposeInternals = useMemo(
    () => ({
      windows,
      sessions,
      inlineThreads,
      registerInline,
      update,
      focus,
      remove,
      giveFocusBack,
      setNotice,
      nextNoticeId,
      undoSeconds,
      undoAsked,
      queryClient,
      compose,
    }),
    [windows, sessions, inlineThreads, registerInline, update, focus, remove, giveFocusBack, undoSeconds, undoAsked, queryClient, compose],
  );
  useEffect(() => {
    internals.current = value;
  });

  // The outbox, live: refresh what shows it, and say so when a message could not leave.
  useEffect(
    () =>
      onLiveEvent(({ type, data }) => {
        if (type !== "outbox.updated" && type !== "ready") return;
        void queryClient.invalidateQueries({ queryKey: composeKeys.outbox });
        void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
        if (type === "ready") return;
        const draftId = str(data.id) ?? str(data.draft_id);
        const status = str(data.status);
        if (status === "sent") {
          // The sent copy joins its thread: the lists and the open thread show it.
          void queryClient.invalidateQueries({ queryKey: mailKeys.threadLists, refetchType: "active" });
          const threadId = str(data.thread_id);
          const threads = threadId ? mailKeys.thread(threadId) : mailKeys.thread("").slice(0, 1);
          void queryClient.invalidateQueries({ queryKey: threads, refetchType: "active" });
          setNotice((current) =>
            current?.kind === "sending" && current.draftId === draftId && current.sendAt === null
              ? { ...current, sent: true, undoable: false }
              : current,
          );
        } else if (status === "failed" && draftId) {
          const reason = str(data.last_error) ?? str(data.smtp_reply);
          withActions((actions, ctx) => actions.reportFailure(ctx, draftId, reason));
        }
      }),
    [queryClient, withActions],
  );

  // Leaving the page with words not yet saved: the browser asks first.
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if ([...sessions.values()].some((session) => session.hasUnsaved())) {
        event.preventDefault();
        for (const session of sessions.values()) void session.flush();
      }
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [sessions]);

  return (
    <ComposeContext.Provider value={compose}>
      <InternalsContext.Provider value={value}>
        {children}
        <Suspense fallback={null}>
          {dockUsed && <ComposeDock />}
          {snackbarUsed && (
            <ComposeSnackbar
              notice={notice}
              onUndo={(current) => withActions((actions, ctx) => actions.undoNotice(ctx, current))}
              onOpen={(draftId) => {
                setNotice(null);
                compose.openDraft(draftId);
              }}
              onClose={() => setNotice(null)}
            />
          )}
        </Suspense>
      </InternalsContext.Provider>
    </ComposeContext.Provider>
  );
}
