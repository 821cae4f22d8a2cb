import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";

import { useAuth } from "@/auth/AuthProvider";
import { refreshSession } from "@/auth/refresh";
import { authStore } from "@/auth/store";

import { api, ApiError, unwrap } from "./client";
import { mailKeys } from "./keys";
import type { components } from "./schema";

type Schemas = components["schemas"];

/** Connected mailboxes, imports and the demo mailbox (`/api/accounts*`). */

export type Account = Schemas["AccountOut"];
export type AccountCreate = Schemas["AccountCreate"];
export type AccountUpdate = Schemas["AccountUpdate"];
export type DiscoveredServers = Schemas["DiscoveredServers"];
export type Security = Schemas["AccountOut"]["imap_security"];
export type ImportStarted = Schemas["ImportStarted"];
export type ImportStatus = Schemas["ImportStatus"];

// Not under mailKeys.accounts (["accounts"]): invalidating the mailbox list, as every sync
// event does, would otherwise refetch these too (and an import's end would loop).
export const accountKeys = {
  /** `POST /api/accounts/discover` for one address (answers do not change while typing). */
  discover: (email: string) => ["account-discovery", email] as const,
  /** `GET /api/accounts/import/{id}` */
  importStatus: (id: string) => ["mail-import", id] as const,
};

/** Every mailbox of the signed-in user, oldest first; kept current by the live client. */
export function useAccounts() {
  const { status } = useAuth();
  return useQuery({
    queryKey: mailKeys.accounts,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/accounts", { signal })).items,
    enabled: status === "signed-in",
  });
}

function upsert(client: QueryClient, account: Account): void {
  client.setQueryData<Account[]>(mailKeys.accounts, (items) => {
    if (items === undefined) return [account];
    return items.some((item) => item.id === account.id)
      ? items.map((item) => (item.id === account.id ? account : item))
      : [...items, account];
  });
}

/** Mail came or went: every list, count and dashboard figure may have changed. */
function mailChanged(client: QueryClient): void {
  void client.invalidateQueries({ queryKey: mailKeys.accounts });
  void client.invalidateQueries({ queryKey: mailKeys.folders });
  void client.invalidateQueries({ queryKey: mailKeys.threadLists });
  void client.invalidateQueries({ queryKey: mailKeys.dashboard });
}

/** What an address looks like enough to ask for its servers. */
export function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(value.trim());
}

/**
 * The servers Postwise would use for `email` (built-in table, DNS, autoconfig), looked up
 * once per address; idle until the address looks complete.
 */
export function useDiscovery(email: string) {
  const address = email.trim().toLowerCase();
  return useQuery({
    queryKey: accountKeys.discover(address),
    queryFn: async ({ signal }) =>
      unwrap(await api.POST("/api/accounts/discover", { body: { email: address }, signal })),
    enabled: looksLikeEmail(address),
    staleTime: Infinity,
    retry: false,
  });
}

/** Connect a mailbox: the server tests the sign-in first and saves nothing if it fails. */
export function useCreateAccount() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: AccountCreate) => unwrap(await api.POST("/api/accounts", { body })),
    onSuccess: (account) => {
      upsert(client, account);
      void client.invalidateQueries({ queryKey: mailKeys.accounts });
    },
  });
}

export function useUpdateAccount() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, changes }: { id: string; changes: AccountUpdate }) =>
      unwrap(
        await api.PATCH("/api/accounts/{account_id}", {
          params: { path: { account_id: id } },
          body: changes,
        }),
      ),
    onSuccess: (account) => upsert(client, account),
  });
}

/** Remove a mailbox and Postwise's copy of its mail; the server's copy is not touched. */
export function useDeleteAccount() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      unwrap(
        await api.DELETE("/api/accounts/{account_id}", { params: { path: { account_id: id } } }),
      );
    },
    onSuccess: (_, id) => {
      client.setQueryData<Account[]>(mailKeys.accounts, (items) =>
        items?.filter((item) => item.id !== id),
      );
      mailChanged(client);
    },
  });
}

/** Ask the sync engine to look at the mailbox now; its progress arrives as `sync.status`. */
export function useSyncAccount() {
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(
        await api.POST("/api/accounts/{account_id}/sync", {
          params: { path: { account_id: id } },
        }),
      ),
  });
}

/** Add (or find again) the demo mailbox; the server fills it in the background. */
export function useLoadDemo() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/accounts/demo")),
    onSuccess: (account) => {
      upsert(client, account);
      mailChanged(client);
    },
  });
}

// --- importing an mbox file ------------------------------------------------------------------

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** A token about to expire is renewed first: the upload of a big file takes a while. */
const RENEW_BEFORE_MS = 2 * 60_000;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function send(file: Blob, options: UploadOptions): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/accounts/import");
    // The file itself is the body (no multipart form): the server streams it to disk.
    request.setRequestHeader("Content-Type", "application/mbox");
    const token = authStore.accessToken();
    if (token !== null) request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.upload.onprogress = (event) => {
      const total = event.lengthComputable ? event.total : file.size;
      options.onProgress?.({ loaded: event.loaded, total });
    };
    request.onload = () => resolve({ status: request.status, body: parseJson(request.responseText) });
    // Raised as fetch raises it, so errorMessage() says "Cannot reach the server".
    request.onerror = () => reject(new TypeError("The upload could not reach the server."));
    request.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    options.signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(file);
  });
}

/**
 * Upload an mbox file (`POST /api/accounts/import`) with upload progress, which fetch cannot
 * report; XMLHttpRequest bypasses the client's middleware, so the bearer token is added here
 * and an expired one is renewed once, like the middleware does.
 */
export async function uploadMbox(file: Blob, options: UploadOptions = {}): Promise<ImportStarted> {
  const state = authStore.getState();
  if (state.status === "signed-in" && state.expiresAt - Date.now() < RENEW_BEFORE_MS) {
    await refreshSession().catch(() => undefined);
  }
  let answer = await send(file, options);
  if (answer.status === 401 && (await refreshSession().catch(() => "signed-out")) === "refreshed") {
    answer = await send(file, options);
  }
  if (answer.status < 200 || answer.status >= 300) throw new ApiError(answer.status, answer.body);
  return answer.body as ImportStarted;
}

/** The server's progress with an uploaded file, polled each second until it is done. */
export function useImportStatus(importId: string | undefined) {
  const client = useQueryClient();
  return useQuery({
    queryKey: accountKeys.importStatus(importId ?? ""),
    queryFn: async ({ signal }) => {
      const status = unwrap(
        await api.GET("/api/accounts/import/{import_id}", {
          params: { path: { import_id: importId ?? "" } },
          signal,
        }),
      );
      // The imported mail lands in lists and counts as it is stored; refresh them once at the end.
      if (status.status !== "importing") mailChanged(client);
      return status;
    },
    enabled: importId !== undefined,
    refetchInterval: (query) => (query.state.data?.status === "importing" ? 1000 : false),
    staleTime: 0,
  });
}
