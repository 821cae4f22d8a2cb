import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
  type QueryKey,
} from "@tanstack/react-query";

import { api, unwrap } from "./client";
import { mailKeys, type ThreadListParams } from "./keys";
import { errorMessage } from "./problem";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Folder = Schemas["FolderOut"];
export type MailAccount = Schemas["AccountOut"];
export type ThreadSummary = Schemas["ThreadSummary"];
export type ThreadLabel = Schemas["ThreadLabel"];
export type ThreadPage = Schemas["ThreadPage"];
export type ThreadDetail = Schemas["ThreadDetail"];
export type ThreadActionName = Schemas["Action"];
/** What a thread-list cache holds: the cursor pages fetched so far. */
export type ThreadListData = InfiniteData<ThreadPage, string | null>;

/** Threads per page: small enough for a first paint in one round trip, large enough to scroll. */
export const PAGE_SIZE = 50;

export async function fetchFolders(signal?: AbortSignal): Promise<Folder[]> {
  return unwrap(await api.GET("/api/folders", { signal })).items;
}

/** One page of a folder or of a search: both answer the same ThreadPage shape. */
export async function fetchThreadPage(
  params: ThreadListParams,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<ThreadPage> {
  const common = { account_id: params.account ?? null, cursor, limit: PAGE_SIZE };
  if (params.q) {
    return unwrap(await api.GET("/api/search", { params: { query: { q: params.q, ...common } }, signal }));
  }
  const section = params.section ?? null;
  return unwrap(
    await api.GET("/api/threads", { params: { query: { folder: params.folder, section, ...common } }, signal }),
  );
}

/** Every folder of every mailbox, with counts (`GET /api/folders`). */
export function useFolders() {
  return useQuery({ queryKey: mailKeys.folders, queryFn: ({ signal }) => fetchFolders(signal) });
}

/** A folder's or a search's threads, a cursor page at a time. */
export function useThreadList(params: ThreadListParams) {
  return useInfiniteQuery({
    queryKey: mailKeys.threadList(params),
    queryFn: ({ pageParam, signal }) => fetchThreadPage(params, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last: ThreadPage) => last.next_cursor,
  });
}

// ---------------------------------------------------------------------------------------------
// Optimistic actions

export interface ThreadActionInput {
  action: ThreadActionName;
  threadIds: readonly string[];
  /** The target folder's id, for `move`. */
  folder?: string | null;
  /** Only the threads' messages in this folder: an undo takes back exactly what was moved. */
  sourceFolder?: string | null;
  /** Rows to put back where they were before the action (an undo of a move). */
  restore?: readonly RemovedRow[];
}

/** A row as it stood in one cached list before it left it. */
export interface RemovedRow {
  key: QueryKey;
  index: number;
  row: ThreadSummary;
}

/** How to take an action back: the opposite flag, or moves back to where the threads were. */
export type UndoPlan =
  | { kind: "flag"; action: ThreadActionName; threadIds: string[] }
  | {
      kind: "move";
      moves: { folder: string; from: string | null; threadIds: string[] }[];
      restore: RemovedRow[];
    };

const MOVES = new Set<ThreadActionName>(["archive", "trash", "spam", "move", "delete"]);
const TARGET_ROLE: Partial<Record<ThreadActionName, string>> = {
  archive: "archive",
  trash: "trash",
  spam: "junk",
};
const OPPOSITE: Partial<Record<ThreadActionName, ThreadActionName>> = {
  read: "unread",
  unread: "read",
  star: "unstar",
  unstar: "star",
};

export const THREAD_ACTION_KEY = ["thread-action"] as const;

/** True for actions that take threads out of a folder. */
export function isMove(action: ThreadActionName): boolean {
  return MOVES.has(action);
}

function listParamsOf(key: QueryKey): ThreadListParams | undefined {
  const params = key[1];
  if (typeof params !== "object" || params === null) return undefined;
  const { folder, account, q, section } = params as Record<string, unknown>;
  if (typeof folder !== "string") return undefined;
  return {
    folder,
    account: typeof account === "string" ? account : undefined,
    q: typeof q === "string" ? q : undefined,
    section: section === "important" || section === "other" ? section : undefined,
  };
}

/** Whether a list would still show a thread with these labels after a change. */
export function listShows(params: ThreadListParams, labels: readonly ThreadLabel[]): boolean {
  if (params.q) {
    // Search leaves out trash and spam unless the query names a folder.
    if (/\bin:/i.test(params.q) || labels.length === 0) return true;
    return labels.some((label) => label.role !== "trash" && label.role !== "junk");
  }
  return labels.some((label) => label.role === params.folder || label.folder_id === params.folder);
}

function threadLists(queryClient: QueryClient): [QueryKey, ThreadListData][] {
  return queryClient
    .getQueriesData<ThreadListData>({ queryKey: mailKeys.threadLists })
    .filter((entry): entry is [QueryKey, ThreadListData] => entry[1] !== undefined);
}

function summaryOfDetail(detail: ThreadDetail): ThreadSummary {
  const participants: ThreadSummary["participants"] = [];
  for (const message of detail.messages) {
    const address = message.from.address;
    if (!participants.some((p) => p.address === address)) {
      participants.push({ name: message.from.name ?? "", address });
    }
  }
  return {
    id: detail.id,
    account_id: detail.account_id,
    subject: detail.subject,
    snippet: detail.messages.at(-1)?.snippet ?? "",
    participants,
    message_count: detail.message_count,
    unread: detail.unread_count > 0,
    unread_count: detail.unread_count,
    starred: detail.messages.some((message) => message.is_starred),
    has_attachments: detail.messages.some((message) => message.attachments.some((a) => !a.is_inline)),
    last_message_at: detail.last_message_at,
    labels: detail.labels,
    ...assistantFieldsOf(detail),
  };
}

/** A row's assistant fields as the server derives them from the thread's messages. */
function assistantFieldsOf(
  detail: ThreadDetail,
): Pick<ThreadSummary, "priority" | "important" | "category" | "needs_reply"> {
  const triaged = detail.messages.filter((message) => message.category != null);
  const priorities = detail.messages.flatMap((message) => (message.priority == null ? [] : [message.priority]));
  return {
    priority: priorities.length > 0 ? Math.max(...priorities) : null,
    important: detail.messages.some((message) => message.important === true),
    category: triaged.at(-1)?.category ?? null,
    needs_reply: detail.messages.filter((message) => !message.is_draft).at(-1)?.needs_reply === true,
  };
}

/** The rows for these ids as the caches know them (any list, else the open thread). */
export function findThreads(queryClient: QueryClient, ids: readonly string[]): ThreadSummary[] {
  const wanted = new Set(ids);
  const found = new Map<string, ThreadSummary>();
  for (const [, data] of threadLists(queryClient)) {
    for (const page of data.pages) {
      for (const row of page.items) {
        if (wanted.has(row.id) && !found.has(row.id)) found.set(row.id, row);
      }
    }
  }
  for (const id of ids) {
    if (found.has(id)) continue;
    const detail = queryClient.getQueryData<ThreadDetail>(mailKeys.thread(id));
    if (detail) found.set(id, summaryOfDetail(detail));
  }
  return ids.flatMap((id) => found.get(id) ?? []);
}

function targetFolder(
  folders: readonly Folder[] | undefined,
  thread: ThreadSummary,
  input: ThreadActionInput,
): Folder | undefined {
  if (!folders) return undefined;
  if (input.action === "move") return folders.find((folder) => folder.id === input.folder);
  const role = TARGET_ROLE[input.action];
  return folders.find((folder) => folder.account_id === thread.account_id && folder.role === role);
}

/** The folders a thread is in once a move-like action has run. */
export function labelsAfter(
  thread: ThreadSummary,
  input: ThreadActionInput,
  folders: readonly Folder[] | undefined,
): ThreadLabel[] {
  if (input.action === "delete") return [];
  const target = targetFolder(folders, thread, input);
  // Archive takes the thread out of the inbox only; the others move every copy except those
  // in an "all mail" view, which the server removes itself.
  const kept = thread.labels.filter((label) =>
    input.action === "archive" ? label.role !== "inbox" : label.role === "all",
  );
  if (target && !kept.some((label) => label.folder_id === target.id)) {
    kept.push({ folder_id: target.id, name: target.name, role: target.role });
  }
  return kept;
}

function patchFlags(row: ThreadSummary, action: ThreadActionName): ThreadSummary {
  switch (action) {
    case "read":
      return row.unread || row.unread_count ? { ...row, unread: false, unread_count: 0 } : row;
    case "unread":
      return { ...row, unread: true, unread_count: Math.max(row.message_count, 1) };
    case "star":
      return row.starred ? row : { ...row, starred: true };
    case "unstar":
      return row.starred ? { ...row, starred: false } : row;
    default:
      return row;
  }
}

function patchDetail(detail: ThreadDetail, input: ThreadActionInput, labels?: ThreadLabel[]): ThreadDetail {
  const { action } = input;
  if (labels) return { ...detail, labels };
  if (action === "read" || action === "unread") {
    const isRead = action === "read";
    return {
      ...detail,
      unread_count: isRead ? 0 : detail.message_count,
      messages: detail.messages.map((m) => ({ ...m, is_read: isRead })),
    };
  }
  if (action === "star") {
    // The server stars the newest message, as Gmail does.
    const last = detail.messages.length - 1;
    return { ...detail, messages: detail.messages.map((m, i) => (i === last ? { ...m, is_starred: true } : m)) };
  }
  if (action === "unstar") {
    return { ...detail, messages: detail.messages.map((m) => ({ ...m, is_starred: false })) };
  }
  return detail;
}

/** Folder counters after the action, estimated from the rows; the refetch afterwards corrects them. */
function patchCounts(
  folders: Folder[],
  before: readonly ThreadSummary[],
  after: ReadonlyMap<string, { row: ThreadSummary; labels: ThreadLabel[] }>,
): Folder[] {
  const delta = new Map<string, { unread: number; total: number }>();
  const add = (id: string, unread: number, total: number) => {
    const entry = delta.get(id) ?? { unread: 0, total: 0 };
    entry.unread += unread;
    entry.total += total;
    delta.set(id, entry);
  };
  for (const old of before) {
    const next = after.get(old.id);
    if (!next) continue;
    const oldIds = new Set(old.labels.map((label) => label.folder_id));
    const newIds = new Set(next.labels.map((label) => label.folder_id));
    for (const id of oldIds) {
      if (!newIds.has(id)) add(id, -old.unread_count, -old.message_count);
    }
    for (const id of newIds) {
      if (!oldIds.has(id)) add(id, next.row.unread_count, next.row.message_count);
    }
    const change = next.row.unread_count - old.unread_count;
    if (change !== 0) {
      // Unread mail of a thread is almost always in its inbox; "all mail" counts it too.
      const home = next.labels.find((l) => l.role === "inbox") ?? next.labels.find((l) => l.role !== "all");
      for (const label of next.labels) {
        if ((label === home || label.role === "all") && oldIds.has(label.folder_id)) add(label.folder_id, change, 0);
      }
    }
  }
  if (delta.size === 0) return folders;
  return folders.map((folder) => {
    const d = delta.get(folder.id);
    if (!d) return folder;
    return {
      ...folder,
      unread_count: Math.max(0, folder.unread_count + d.unread),
      total_count: Math.max(0, folder.total_count + d.total),
    };
  });
}

/** Put rows back into the lists they left, at their old positions, unless already there. */
export function restoreRows(queryClient: QueryClient, rows: readonly RemovedRow[]): void {
  const sorted = [...rows].sort((a, b) => a.index - b.index);
  for (const { key, index, row } of sorted) {
    queryClient.setQueryData<ThreadListData>(key, (data) => {
      if (!data || data.pages.some((page) => page.items.some((item) => item.id === row.id))) return data;
      let offset = index;
      const pages = data.pages.map((page) => ({ ...page }));
      for (let p = 0; p < pages.length; p++) {
        const page = pages[p]!;
        if (offset <= page.items.length || p === pages.length - 1) {
          const items = [...page.items];
          items.splice(Math.min(offset, items.length), 0, row);
          pages[p] = { ...page, items };
          return { ...data, pages };
        }
        offset -= page.items.length;
      }
      return data;
    });
  }
}

/**
 * Patch every cache an action touches: rows in every list (flags), rows leaving the lists that
 * no longer show them (moves), the open thread, and the folder counters.
 */
export function applyOptimistic(queryClient: QueryClient, input: ThreadActionInput): void {
  const rows = findThreads(queryClient, input.threadIds);
  const folders = queryClient.getQueryData<Folder[]>(mailKeys.folders);
  const moving = isMove(input.action);
  const after = new Map<string, { row: ThreadSummary; labels: ThreadLabel[] }>();
  for (const row of rows) {
    const labels = moving ? labelsAfter(row, input, folders) : row.labels;
    after.set(row.id, { row: { ...patchFlags(row, input.action), labels }, labels });
  }
  if (input.restore) restoreRows(queryClient, input.restore);
  for (const [key, data] of threadLists(queryClient)) {
    const params = listParamsOf(key);
    let changed = false;
    const pages = data.pages.map((page) => {
      let pageChanged = false;
      const items: ThreadSummary[] = [];
      for (const item of page.items) {
        const next = after.get(item.id);
        if (!next) {
          items.push(item);
          continue;
        }
        pageChanged = true;
        if (moving && params && !listShows(params, next.labels)) continue;
        items.push(moving ? { ...item, labels: next.labels } : patchFlags(item, input.action));
      }
      if (!pageChanged) return page;
      changed = true;
      return { ...page, items };
    });
    if (changed) queryClient.setQueryData<ThreadListData>(key, { ...data, pages });
  }
  for (const id of input.threadIds) {
    queryClient.setQueryData<ThreadDetail>(mailKeys.thread(id), (detail) =>
      detail ? patchDetail(detail, input, moving ? after.get(id)?.labels : undefined) : detail,
    );
  }
  if (folders) queryClient.setQueryData<Folder[]>(mailKeys.folders, patchCounts(folders, rows, after));
}

/** Where a thread goes back to when a move is undone: the folder the user took it out of. */
function sourceLabel(row: ThreadSummary, action: ThreadActionName, view?: ThreadListParams): ThreadLabel | undefined {
  const labels = row.labels.filter((label) => label.role !== "all");
  if (action === "archive") return labels.find((label) => label.role === "inbox");
  if (view && !view.q) {
    const shown = labels.find((label) => label.folder_id === view.folder || label.role === view.folder);
    if (shown) return shown;
  }
  return (
    labels.find((label) => label.role === "inbox") ??
    labels.find((label) => label.role !== "trash" && label.role !== "junk") ??
    labels[0]
  );
}

/**
 * How to take an action back, worked out before it runs (from the rows as they are now).
 * Null when it cannot be undone: a permanent delete, or no row knows where the threads were.
 */
export function planUndo(
  queryClient: QueryClient,
  input: ThreadActionInput,
  view?: ThreadListParams,
): UndoPlan | null {
  const opposite = OPPOSITE[input.action];
  if (opposite) return { kind: "flag", action: opposite, threadIds: [...input.threadIds] };
  if (!isMove(input.action) || input.action === "delete") return null;
  // Where the action puts each thread's messages: the undo moves back only what is there.
  const folders = queryClient.getQueryData<Folder[]>(mailKeys.folders) ?? [];
  const destination = (accountId: string): string | null => {
    if (input.action === "move") return input.folder ?? null;
    const role = TARGET_ROLE[input.action];
    return folders.find((folder) => folder.account_id === accountId && folder.role === role)?.id ?? null;
  };
  const groups = new Map<string, { folder: string; from: string | null; threadIds: string[] }>();
  for (const row of findThreads(queryClient, input.threadIds)) {
    const source = sourceLabel(row, input.action, view);
    if (!source) continue;
    const from = destination(row.account_id);
    const key = `${source.folder_id} ${from ?? ""}`;
    const group = groups.get(key) ?? { folder: source.folder_id, from, threadIds: [] };
    group.threadIds.push(row.id);
    groups.set(key, group);
  }
  if (groups.size === 0) return null;
  const wanted = new Set(input.threadIds);
  const restore: RemovedRow[] = [];
  for (const [key, data] of threadLists(queryClient)) {
    let index = 0;
    for (const page of data.pages) {
      for (const row of page.items) {
        if (wanted.has(row.id)) restore.push({ key, index, row });
        index++;
      }
    }
  }
  return {
    kind: "move",
    moves: [...groups.values()],
    restore,
  };
}

/** The actions that run an undo plan, in order. */
export function undoInputs(plan: UndoPlan): ThreadActionInput[] {
  if (plan.kind === "flag") return [{ action: plan.action, threadIds: plan.threadIds }];
  return plan.moves.map((move, n) => ({
    action: "move" as const,
    threadIds: move.threadIds,
    folder: move.folder,
    sourceFolder: move.from,
    // The rows go back into the lists once, with the first call.
    restore: n === 0 ? plan.restore : undefined,
  }));
}

interface Snapshot {
  entries: [QueryKey, unknown][];
}

function takeSnapshot(queryClient: QueryClient, ids: readonly string[]): Snapshot {
  const entries: [QueryKey, unknown][] = [
    ...queryClient.getQueriesData({ queryKey: mailKeys.threadLists }),
    [mailKeys.folders, queryClient.getQueryData(mailKeys.folders)],
    ...ids.map((id): [QueryKey, unknown] => [mailKeys.thread(id), queryClient.getQueryData(mailKeys.thread(id))]),
  ];
  return { entries };
}

async function postThreadAction(input: ThreadActionInput): Promise<Schemas["ThreadActionResult"]> {
  return unwrap(
    await api.POST("/api/threads/actions", {
      body: {
        thread_ids: [...input.threadIds],
        action: input.action,
        folder: input.folder ?? null,
        source_folder: input.sourceFolder ?? null,
      },
    }),
  );
}

export interface ThreadActionOptions {
  /** Told, in words for people, when an action failed and was rolled back. */
  onError?: (message: string, input: ThreadActionInput) => void;
}

/**
 * Run an action on threads: every cache shows the result at once, the server call follows, a
 * failure puts the caches back as they were and says why. The lists are re-read once the last
 * running action has settled, so a burst of actions does not refetch between its steps.
 */
export function useThreadAction(options: ThreadActionOptions = {}) {
  const queryClient = useQueryClient();
  const { onError } = options;
  return useMutation({
    mutationKey: THREAD_ACTION_KEY,
    mutationFn: postThreadAction,
    onMutate: async (input: ThreadActionInput) => {
      const snapshot = takeSnapshot(queryClient, input.threadIds);
      // A list fetch in flight would overwrite the optimistic rows with stale ones.
      await queryClient.cancelQueries({ queryKey: mailKeys.threadLists });
      applyOptimistic(queryClient, input);
      return snapshot;
    },
    onError: (error, input, snapshot) => {
      if (snapshot) {
        for (const [key, data] of snapshot.entries) queryClient.setQueryData(key, data);
      }
      onError?.(errorMessage(error, ACTION_ERRORS), input);
    },
    onSettled: async (_data, _error, input) => {
      await Promise.all(
        input.threadIds.map((id) => queryClient.invalidateQueries({ queryKey: mailKeys.thread(id) })),
      );
      if (queryClient.isMutating({ mutationKey: THREAD_ACTION_KEY }) > 1) return;
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: mailKeys.threadLists }),
        queryClient.invalidateQueries({ queryKey: mailKeys.folders }),
      ]);
    },
  });
}

/** Problem codes of the actions endpoint, in the user's words. */
const ACTION_ERRORS: Record<string, string> = {
  not_found: "That conversation is no longer there.",
};
