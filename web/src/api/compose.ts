import {
  keepPreviousData,
  useMutation,
  useQueries,
  useQuery,
  useQueryClient,
  type QueryClient,
} from "@tanstack/react-query";

import { useAuth } from "@/auth/AuthProvider";
import { refreshSession } from "@/auth/refresh";
import { authStore } from "@/auth/store";

import { api, ApiError, unwrap } from "./client";
import { composeKeys } from "./keys";
import type { components } from "./schema";

/** Drafts, their attachments, sending and undo, identities and the address book (`/api/drafts…`). */

type Schemas = components["schemas"];

export type Draft = Schemas["DraftOut"];
export type DraftSummary = Schemas["DraftSummary"];
export type DraftList = Schemas["DraftList"];
export type DraftAttachment = Schemas["DraftAttachmentOut"];
export type DraftCreate = Schemas["DraftCreate"];
export type DraftUpdate = Schemas["DraftUpdate"];
export type ComposeMode = Schemas["ComposeMode"];
export type OutboxEntry = Schemas["OutboxEntry"];
export type Contact = Schemas["ContactOut"];
export type Identity = Schemas["IdentityOut"];
/** A name and an address, as drafts store them. */
export interface Recipient {
  name: string;
  address: string;
}

export async function fetchDraft(id: string, signal?: AbortSignal): Promise<Draft> {
  return unwrap(await api.GET("/api/drafts/{draft_id}", { params: { path: { draft_id: id } }, signal }));
}

export async function createDraft(body: DraftCreate): Promise<Draft> {
  return unwrap(await api.POST("/api/drafts", { body }));
}

export async function updateDraft(id: string, body: DraftUpdate): Promise<Draft> {
  return unwrap(await api.PATCH("/api/drafts/{draft_id}", { params: { path: { draft_id: id } }, body }));
}

export async function deleteDraft(id: string): Promise<void> {
  const result = await api.DELETE("/api/drafts/{draft_id}", { params: { path: { draft_id: id } } });
  // Already gone is what was asked for.
  if (result.response.status === 404) return;
  unwrap(result);
}

export interface SendInput {
  id: string;
  /** ISO 8601 with a zone; absent sends after the user's undo window. */
  sendAt?: string | null;
  /** The version the editor last saved: the server refuses to send a draft changed since. */
  version?: number | null;
}

export async function sendDraft({ id, sendAt, version }: SendInput): Promise<OutboxEntry> {
  return unwrap(
    await api.POST("/api/drafts/{draft_id}/send", {
      params: { path: { draft_id: id } },
      body: { send_at: sendAt ?? null, version: version ?? null },
    }),
  );
}

export async function cancelSend(id: string): Promise<Draft> {
  return unwrap(await api.POST("/api/outbox/{draft_id}/cancel", { params: { path: { draft_id: id } } }));
}

export async function deleteAttachment(id: string, position: number): Promise<void> {
  const result = await api.DELETE("/api/drafts/{draft_id}/attachments/{position}", {
    params: { path: { draft_id: id, position } },
  });
  if (result.response.status === 404) return;
  unwrap(result);
}

export async function searchContacts(q: string, signal?: AbortSignal): Promise<Contact[]> {
  return unwrap(await api.GET("/api/contacts", { params: { query: { q, limit: 8 } }, signal })).items;
}

export async function fetchIdentity(accountId: string, signal?: AbortSignal): Promise<Identity> {
  return unwrap(
    await api.GET("/api/accounts/{account_id}/identity", { params: { path: { account_id: accountId } }, signal }),
  );
}

/** A draft as `GET /api/drafts` lists it (the snippet as near as the client can tell). */
export function summaryOf(draft: Draft): DraftSummary {
  return {
    id: draft.id,
    account_id: draft.account_id,
    status: draft.status,
    mode: draft.mode,
    to: draft.to,
    subject: draft.subject,
    snippet: draft.text.replace(/\s+/g, " ").trim().slice(0, 200),
    has_attachments: draft.attachments.some((attachment) => !attachment.is_inline),
    thread_id: draft.thread_id,
    updated_at: draft.updated_at,
  };
}

/**
 * After a save: the draft's cache and its row in the Drafts list (newest first) change in
 * place, so the list and its count keep up without asking the server after every autosave.
 */
export function rememberDraft(queryClient: QueryClient, draft: Draft): void {
  queryClient.setQueryData(composeKeys.draft(draft.id), draft);
  const known = queryClient.getQueryData<DraftList>(composeKeys.drafts);
  if (known === undefined) return;
  const isNew = !known.items.some((item) => item.id === draft.id);
  queryClient.setQueryData<DraftList>(composeKeys.drafts, {
    items: [summaryOf(draft), ...known.items.filter((item) => item.id !== draft.id)],
  });
  // A new row: the server's own version (its snippet, its order) follows.
  if (isNew) void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
}

/** After a delete: the draft leaves the Drafts list at once. */
export function forgetDraft(queryClient: QueryClient, id: string): void {
  queryClient.removeQueries({ queryKey: composeKeys.draft(id), exact: true });
  queryClient.setQueryData<DraftList>(composeKeys.drafts, (list) => list && { items: list.items.filter((item) => item.id !== id) });
}

// ---------------------------------------------------------------------------------------------
// Hooks

/** One draft (`GET /api/drafts/{id}`); idle without an id. */
export function useDraft(id: string | null | undefined) {
  return useQuery({
    queryKey: composeKeys.draft(id ?? ""),
    queryFn: ({ signal }) => fetchDraft(id ?? "", signal),
    enabled: Boolean(id),
  });
}

export function useCreateDraft() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createDraft,
    onSuccess: (draft) => {
      queryClient.setQueryData(composeKeys.draft(draft.id), draft);
      void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
    },
  });
}

/** An autosave: send `version` in the body; 409 `draft_conflict` means a newer save exists. */
export function useUpdateDraft() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: DraftUpdate }) => updateDraft(id, body),
    onSuccess: (draft) => {
      queryClient.setQueryData(composeKeys.draft(draft.id), draft);
      void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
    },
  });
}

export function useDeleteDraft() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteDraft,
    onSuccess: (_, id) => {
      queryClient.removeQueries({ queryKey: composeKeys.draft(id), exact: true });
      void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
    },
  });
}

export function useSendDraft() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: sendDraft,
    onSuccess: (_, { id }) => {
      queryClient.removeQueries({ queryKey: composeKeys.draft(id), exact: true });
      void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
      void queryClient.invalidateQueries({ queryKey: composeKeys.outbox });
    },
  });
}

/** Undo send (`POST /api/outbox/{id}/cancel`): answers the draft it turned back into. */
export function useCancelSend() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: cancelSend,
    onSuccess: (draft) => {
      queryClient.setQueryData(composeKeys.draft(draft.id), draft);
      void queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
      void queryClient.invalidateQueries({ queryKey: composeKeys.outbox });
    },
  });
}

export function useDeleteAttachment() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, position }: { id: string; position: number }) => deleteAttachment(id, position),
    onSuccess: (_, { id }) => void queryClient.invalidateQueries({ queryKey: composeKeys.draft(id) }),
  });
}

/**
 * People to suggest for `q` (already debounced by the caller), best first. The previous answer
 * stays while the next is on its way, so the list does not flicker as the user types.
 */
export function useContacts(q: string) {
  const { status } = useAuth();
  const query = q.trim();
  return useQuery({
    queryKey: composeKeys.contacts(query.toLowerCase()),
    queryFn: ({ signal }) => searchContacts(query, signal),
    enabled: status === "signed-in" && query !== "",
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
}

/** Who each mailbox sends as (`GET /api/accounts/{id}/identity`), for the From field. */
export function useIdentities(accountIds: readonly string[]) {
  return useQueries({
    queries: accountIds.map((id) => ({
      queryKey: composeKeys.identity(id),
      queryFn: ({ signal }: { signal: AbortSignal }) => fetchIdentity(id, signal),
      staleTime: 5 * 60_000,
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// Uploads

export interface UploadOptions {
  /** An image the HTML shows by its `cid:`. */
  inline?: boolean;
  /** Bytes sent so far and the total, as the browser reports them. */
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

function parseBody(xhr: XMLHttpRequest): unknown {
  try {
    return xhr.responseText ? (JSON.parse(xhr.responseText) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function sendOnce(url: string, form: FormData, options: UploadOptions): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const done = () => options.signal?.removeEventListener("abort", abort);
    xhr.open("POST", url);
    xhr.withCredentials = true;
    const token = authStore.accessToken();
    if (token !== null) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.(event.loaded, event.total);
    };
    xhr.onload = () => {
      done();
      resolve(xhr);
    };
    // As fetch does: a network failure is a TypeError, which errorMessage() words for people.
    xhr.onerror = () => {
      done();
      reject(new TypeError("Network request failed"));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException("The upload was cancelled.", "AbortError"));
    };
    if (options.signal?.aborted) {
      reject(new DOMException("The upload was cancelled.", "AbortError"));
      return;
    }
    options.signal?.addEventListener("abort", abort);
    xhr.send(form);
  });
}

/**
 * Upload a file to a draft. XMLHttpRequest rather than fetch, because only it reports upload
 * progress. Authenticated as the openapi-fetch client is: the in-memory bearer token, and one
 * refresh and retry when the token has expired. Throws ApiError with the problem (413
 * `attachment_too_large` carries the limit in its detail).
 */
export async function uploadAttachment(
  draftId: string,
  file: File,
  options: UploadOptions = {},
): Promise<DraftAttachment> {
  const base = typeof window === "undefined" ? "" : window.location.origin;
  const url = `${base}/api/drafts/${encodeURIComponent(draftId)}/attachments`;
  const form = () => {
    const data = new FormData();
    data.append("file", file, file.name);
    data.append("inline", options.inline ? "true" : "false");
    return data;
  };
  const sentWith = authStore.accessToken();
  let xhr = await sendOnce(url, form(), options);
  if (xhr.status === 401) {
    // Another call may have refreshed meanwhile; otherwise refresh once (single-flight).
    const fresh = authStore.accessToken() !== sentWith || (await refreshSession().catch(() => null)) === "refreshed";
    if (fresh && authStore.accessToken() !== null) xhr = await sendOnce(url, form(), options);
  }
  const body = parseBody(xhr);
  if (xhr.status < 200 || xhr.status >= 300) {
    const retry = Number(xhr.getResponseHeader("Retry-After"));
    throw new ApiError(xhr.status, body, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return body as DraftAttachment;
}
