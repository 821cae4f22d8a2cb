import { useMutation, useQuery, useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";

import { useAuth } from "@/auth/AuthProvider";

import { api, ApiError, unwrap } from "./client";
import { deleteDraft, forgetDraft, rememberDraft, type Draft } from "./compose";
import { aiKeys, mailKeys } from "./keys";
import type { ThreadListData } from "./mail";
import { errorMessage } from "./problem";
import type { components } from "./schema";
import type { ThreadDetail } from "./thread";

/** The assistant (`/api/ai/…`): settings, usage, the dashboard's figures, feedback, summaries, reply drafts. */

type Schemas = components["schemas"];

export type AiSettings = Schemas["AiSettingsOut"];
export type AiSettingsUpdate = Schemas["AiSettingsUpdate"];
export type AiTestResult = Schemas["AiTestResult"];
export type AiUsage = Schemas["UsageOut"];
export type AiUsageDay = Schemas["UsageDay"];
export type AiOverview = Schemas["AiOverview"];
export type ThreadSummaryOut = Schemas["ThreadSummaryOut"];
export type FeedbackResult = Schemas["FeedbackResult"];
export type Category = Schemas["Category"];
export type Tone = Schemas["Tone"];

/** The usage table's window, in days. */
export const USAGE_DAYS = 30;

// ---------------------------------------------------------------------------------------------
// Settings, usage, overview, summaries

/** The assistant's settings for the signed-in user (`GET /api/ai/settings`). */
export function useAiSettings() {
  const { status } = useAuth();
  return useQuery({
    queryKey: aiKeys.settings,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/ai/settings", { signal })),
    enabled: status === "signed-in",
    staleTime: 60_000,
  });
}

/** Change some settings; only the fields sent change. The answer replaces the cached settings. */
export function useUpdateAiSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: AiSettingsUpdate) => unwrap(await api.PATCH("/api/ai/settings", { body })),
    onSuccess: (settings) => {
      queryClient.setQueryData(aiKeys.settings, settings);
      // Another provider answers from now on: what the dashboard says about it changes too.
      void queryClient.invalidateQueries({ queryKey: aiKeys.overview });
    },
  });
}

/** One small request to the provider the settings name (`POST /api/ai/settings/test`). */
export function useTestAiSettings() {
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/ai/settings/test")),
  });
}

/** Calls, tokens and cost per day and model (`GET /api/ai/usage?days=`). */
export function useAiUsage(days: number = USAGE_DAYS) {
  return useQuery({
    queryKey: aiKeys.usage(days),
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/ai/usage", { params: { query: { days } }, signal })),
    staleTime: 30_000,
  });
}

/** The dashboard's assistant widgets (`GET /api/ai/overview`). */
export function useAiOverview() {
  return useQuery({
    queryKey: aiKeys.overview,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/ai/overview", { signal })),
    staleTime: 30_000,
  });
}

/**
 * A thread's summary: key points, questions, action items (`GET /api/ai/threads/{id}/summary`).
 * The server recomputes it when a message joins; the live client invalidates it then.
 */
export function useThreadSummary(threadId: string) {
  return useQuery({
    queryKey: aiKeys.summary(threadId),
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/ai/threads/{thread_id}/summary", { params: { path: { thread_id: threadId } }, signal })),
    staleTime: 5 * 60_000,
  });
}

// ---------------------------------------------------------------------------------------------
// Feedback: important / not important, the right category

export interface FeedbackInput {
  messageId: number;
  /** The message's thread, whose caches change at once. */
  threadId: string | null;
  important?: boolean;
  category?: Category;
}

interface FeedbackPatch {
  important?: boolean;
  category?: string;
}

function patchThread(queryClient: QueryClient, threadId: string, messageId: number, patch: FeedbackPatch): void {
  queryClient.setQueryData<ThreadDetail>(mailKeys.thread(threadId), (thread) =>
    thread === undefined
      ? thread
      : {
          ...thread,
          messages: thread.messages.map((message) => (message.id === messageId ? { ...message, ...patch } : message)),
        },
  );
}

/** The rows of a thread in every cached list: a row's flags are its messages' (the server's word follows). */
function patchRows(queryClient: QueryClient, threadId: string, patch: FeedbackPatch): void {
  const detail = queryClient.getQueryData<ThreadDetail>(mailKeys.thread(threadId));
  // The row is important while any of its messages is; without the thread at hand, the feedback decides.
  const important =
    patch.important === undefined
      ? undefined
      : detail !== undefined
        ? detail.messages.some((message) => message.important === true)
        : patch.important;
  for (const [key, data] of queryClient.getQueriesData<ThreadListData>({ queryKey: mailKeys.threadLists })) {
    if (data === undefined || !Array.isArray(data.pages)) continue;
    let changed = false;
    const pages = data.pages.map((page) => {
      if (!page.items.some((item) => item.id === threadId)) return page;
      changed = true;
      return {
        ...page,
        items: page.items.map((item) =>
          item.id !== threadId
            ? item
            : {
                ...item,
                ...(important === undefined ? {} : { important }),
                ...(patch.category === undefined ? {} : { category: patch.category }),
              },
        ),
      };
    });
    if (changed) queryClient.setQueryData<ThreadListData>(key, { ...data, pages });
  }
}

/** Apply feedback to the open thread and the lists showing it. */
export function applyFeedback(queryClient: QueryClient, input: FeedbackInput): void {
  if (input.threadId === null) return;
  const patch: FeedbackPatch = {};
  if (input.important !== undefined) patch.important = input.important;
  if (input.category !== undefined) patch.category = input.category;
  patchThread(queryClient, input.threadId, input.messageId, patch);
  patchRows(queryClient, input.threadId, patch);
}

export interface FeedbackOptions {
  onSaved?: (input: FeedbackInput, result: FeedbackResult) => void;
  /** Told, in words for people, when the feedback was not kept (the caches are back as they were). */
  onError?: (message: string, input: FeedbackInput) => void;
}

/**
 * Teach the assistant (`POST /api/ai/feedback`): the message changes at once in the thread and
 * its row, the server call follows, a failure puts everything back and says why.
 */
export function useAiFeedback(options: FeedbackOptions = {}) {
  const queryClient = useQueryClient();
  const { onSaved, onError } = options;
  return useMutation({
    mutationFn: async (input: FeedbackInput) =>
      unwrap(
        await api.POST("/api/ai/feedback", {
          body: { message_id: input.messageId, important: input.important ?? null, category: input.category ?? null },
        }),
      ),
    onMutate: async (input: FeedbackInput) => {
      const keys: QueryKey[] = [mailKeys.threadLists];
      if (input.threadId !== null) keys.push(mailKeys.thread(input.threadId));
      await Promise.all(keys.map((queryKey) => queryClient.cancelQueries({ queryKey })));
      const snapshot: [QueryKey, unknown][] = [
        ...queryClient.getQueriesData({ queryKey: mailKeys.threadLists }),
        ...(input.threadId === null
          ? []
          : [[mailKeys.thread(input.threadId), queryClient.getQueryData(mailKeys.thread(input.threadId))] as [QueryKey, unknown]]),
      ];
      applyFeedback(queryClient, input);
      return snapshot;
    },
    onError: (error, input, snapshot) => {
      for (const [key, data] of snapshot ?? []) queryClient.setQueryData(key, data);
      onError?.(errorMessage(error, FEEDBACK_ERRORS), input);
    },
    onSuccess: (result, input) => {
      const threadId = result.thread_id ?? input.threadId;
      if (threadId !== null) {
        patchThread(queryClient, threadId, result.message_id, { important: result.important, category: result.category });
      }
      onSaved?.(input, result);
    },
    onSettled: () =>
      Promise.all([
        // The split of the inbox and the dashboard's counts are the server's to work out.
        queryClient.invalidateQueries({ queryKey: mailKeys.threadLists }),
        queryClient.invalidateQueries({ queryKey: aiKeys.overview }),
      ]),
  });
}

const FEEDBACK_ERRORS: Record<string, string> = {
  not_found: "That message is no longer there.",
};

// ---------------------------------------------------------------------------------------------
// Reply drafts, streamed

export type DraftStreamEvent =
  | { type: "draft"; draft: Draft }
  | { type: "delta"; text: string }
  | { type: "done"; draft: Draft; provider: string; model: string }
  | { type: "error"; code: string; draft: Draft | null };

function isDraft(value: unknown): value is Draft {
  return typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string";
}

/** One line of the stream as an event; null for a line this client does not know. */
export function parseDraftEvent(line: string): DraftStreamEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const event = value as Record<string, unknown>;
  switch (event.type) {
    case "draft":
      return isDraft(event.draft) ? { type: "draft", draft: event.draft } : null;
    case "delta":
      return typeof event.text === "string" ? { type: "delta", text: event.text } : null;
    case "done":
      return isDraft(event.draft)
        ? { type: "done", draft: event.draft, provider: String(event.provider ?? ""), model: String(event.model ?? "") }
        : null;
    case "error":
      return {
        type: "error",
        code: typeof event.code === "string" ? event.code : "provider_failed",
        draft: isDraft(event.draft) ? event.draft : null,
      };
    default:
      return null;
  }
}

/** Read newline-delimited JSON as it arrives, one event per complete line. */
export async function readDraftEvents(
  stream: ReadableStream<Uint8Array>,
  onEvent: (event: DraftStreamEvent) => void,
): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const emit = (line: string) => {
    if (line.trim() === "") return;
    const event = parseDraftEvent(line);
    if (event !== null) onEvent(event);
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        emit(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
    }
    emit(buffer + decoder.decode());
  } finally {
    reader.releaseLock();
  }
}

export interface AiDraftRequest {
  threadId: string;
  tone: Tone;
  instruction?: string;
}

/**
 * `POST /api/ai/drafts`: the server makes a reply draft and streams the text it writes into it.
 * Through the API client, so the bearer token and its refresh work as for every other call.
 */
export async function streamAiDraft(
  request: AiDraftRequest,
  onEvent: (event: DraftStreamEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const instruction = request.instruction?.trim();
  const result = await api.POST("/api/ai/drafts", {
    body: { thread_id: request.threadId, tone: request.tone, instruction: instruction ? instruction : null },
    parseAs: "stream",
    signal,
  });
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error);
  }
  const body = result.response.body;
  if (body === null) throw new ApiError(result.response.status, undefined);
  await readDraftEvents(body, onEvent);
}

export type AiDraftPhase = "idle" | "writing" | "done" | "failed";

export interface AiDraftState {
  phase: AiDraftPhase;
  /** What the assistant has written so far. */
  text: string;
  /** The draft the server made (known from the first line on). */
  draft: Draft | null;
  /** Why it failed, in words for people. */
  error: string | null;
  tone: Tone | null;
}

const IDLE: AiDraftState = { phase: "idle", text: "", draft: null, error: null, tone: null };

const DRAFT_ERRORS: Record<string, string> = {
  not_found: "That conversation is no longer there.",
  nothing_to_answer: "There is no message in this conversation to answer.",
};

export interface AiDraftOptions {
  /** The draft holds the whole reply (the server saved it). */
  onDone?: (draft: Draft) => void;
}

/**
 * Write a reply with the assistant and watch it arrive. `stop` (or leaving) cancels it and
 * deletes the half-made draft; a provider failing part-way leaves a draft with what it wrote.
 */
export function useAiDraft(options: AiDraftOptions = {}) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<AiDraftState>(IDLE);
  const run = useRef<{ controller: AbortController; draft: Draft | null } | null>(null);
  const onDone = useRef(options.onDone);
  useEffect(() => {
    onDone.current = options.onDone;
  });

  /** A failed run's draft, kept until the user opens or discards it. */
  const leftover = useRef<Draft | null>(null);

  const discard = useCallback(
    (draft: Draft | null) => {
      if (draft === null) return;
      void deleteDraft(draft.id)
        .then(() => forgetDraft(queryClient, draft.id))
        .catch(() => undefined);
    },
    [queryClient],
  );

  const cancel = useCallback(() => {
    const current = run.current;
    run.current = null;
    if (current === null) return;
    current.controller.abort();
    discard(current.draft);
  }, [discard]);

  const start = useCallback(
    (request: AiDraftRequest) => {
      cancel();
      discard(leftover.current);
      leftover.current = null;
      const current = { controller: new AbortController(), draft: null as Draft | null };
      run.current = current;
      setState({ ...IDLE, phase: "writing", tone: request.tone });
      const mine = () => run.current === current;
      const onEvent = (event: DraftStreamEvent) => {
        if (!mine()) return;
        if (event.type === "draft") {
          current.draft = event.draft;
          setState((s) => ({ ...s, draft: event.draft }));
        } else if (event.type === "delta") {
          setState((s) => ({ ...s, text: s.text + event.text }));
        } else if (event.type === "done") {
          run.current = null;
          rememberDraft(queryClient, event.draft);
          setState((s) => ({ ...s, phase: "done", draft: event.draft }));
          onDone.current?.(event.draft);
        } else {
          run.current = null;
          leftover.current = event.draft ?? current.draft;
          if (event.draft !== null) rememberDraft(queryClient, event.draft);
          setState((s) => ({
            ...s,
            phase: "failed",
            draft: event.draft ?? s.draft,
            error: "The assistant stopped part-way through. The draft keeps what it wrote.",
          }));
        }
      };
      streamAiDraft(request, onEvent, current.controller.signal)
        .then(() => {
          // The stream ended without its last line (the connection dropped).
          if (!mine()) return;
          run.current = null;
          leftover.current = current.draft;
          setState((s) => ({ ...s, phase: "failed", error: "The connection was lost before the reply was finished." }));
        })
        .catch((error: unknown) => {
          if (!mine()) return;
          run.current = null;
          leftover.current = current.draft;
          setState((s) => ({ ...s, phase: "failed", error: errorMessage(error, DRAFT_ERRORS) }));
        });
    },
    [cancel, discard, queryClient],
  );

  /** Stop writing, or put a failed run away: its draft is deleted either way. */
  const stop = useCallback(() => {
    cancel();
    discard(leftover.current);
    leftover.current = null;
    setState(IDLE);
  }, [cancel, discard]);

  /** Forget the run and keep its draft (it was opened in the composer). */
  const reset = useCallback(() => {
    run.current = null;
    leftover.current = null;
    setState(IDLE);
  }, []);

  // Leaving while it writes: nothing keeps running, and no half-made draft is left behind.
  useEffect(() => cancel, [cancel]);

  return { state, start, stop, reset };
}
