import type { Message } from "@/api/thread";

/** What the thread shows, top to bottom: message cards and folds of older collapsed ones. */
export type ThreadItem =
  | { kind: "message"; message: Message; expanded: boolean }
  | { kind: "fold"; key: string; messages: Message[] };

/** Runs of this many collapsed messages or more fold into one "N older messages" line. */
export const FOLD_MIN = 3;

/**
 * Lay a thread out: each message open or collapsed, and every run of FOLD_MIN or more
 * collapsed messages folded unless the reader unfolded it (runs are known by their first
 * message's id, so unfolding survives new messages arriving below).
 */
export function threadItems(
  messages: readonly Message[],
  isExpanded: (message: Message) => boolean,
  unfolded: ReadonlySet<string>,
): ThreadItem[] {
  const items: ThreadItem[] = [];
  let run: Message[] = [];
  const flush = () => {
    const key = run[0] === undefined ? "" : String(run[0].id);
    if (run.length >= FOLD_MIN && !unfolded.has(key)) {
      items.push({ kind: "fold", key, messages: run });
    } else {
      for (const message of run) items.push({ kind: "message", message, expanded: false });
    }
    run = [];
  };
  for (const message of messages) {
    if (isExpanded(message)) {
      flush();
      items.push({ kind: "message", message, expanded: true });
    } else {
      run.push(message);
    }
  }
  flush();
  return items;
}

/** What the reader saw of a thread: the messages known, which opened by default, which are new. */
export interface Seen {
  threadId: string;
  ids: ReadonlySet<number>;
  /** Open unless the reader closed them: the newest and the unread at first sight, and arrivals. */
  open: ReadonlySet<number>;
  /** Arrived while the thread was open: highlighted briefly. */
  fresh: ReadonlySet<number>;
}

/** The first sight of a thread: the newest and every unread message open. */
export function firstSight(threadId: string, messages: readonly Message[]): Seen {
  const open = new Set(messages.filter((message) => !message.is_read).map((message) => message.id));
  const newest = messages.at(-1);
  if (newest !== undefined) open.add(newest.id);
  return { threadId, ids: new Set(messages.map((message) => message.id)), open, fresh: new Set() };
}

/** The same thread after a refetch: messages not seen before arrive open and highlighted. */
export function nextSight(seen: Seen, messages: readonly Message[]): Seen {
  const arrived = messages.filter((message) => !seen.ids.has(message.id)).map((message) => message.id);
  if (arrived.length === 0) return seen;
  return {
    threadId: seen.threadId,
    ids: new Set([...seen.ids, ...arrived]),
    open: new Set([...seen.open, ...arrived]),
    fresh: new Set([...seen.fresh, ...arrived]),
  };
}
