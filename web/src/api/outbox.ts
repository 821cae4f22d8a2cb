import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { useAuth } from "@/auth/AuthProvider";

import { api, unwrap } from "./client";
import { composeKeys, mailKeys } from "./keys";
import type { components } from "./schema";

type Schemas = components["schemas"];

/** The lists of what the user is writing and sending (`/api/drafts`, `/api/outbox`) and identities. */

export type DraftSummary = Schemas["DraftSummary"];
export type OutboxEntry = Schemas["OutboxEntry"];
export type DraftStatus = Schemas["DraftStatus"];
export type Identity = Schemas["Identity"];
export type IdentityOut = Schemas["IdentityOut"];
export type SendAs = Schemas["SendAs"];

/** How often the outbox is read again while something in it is on its way. */
export const OUTBOX_POLL_MS = 5_000;

/** Outbox entries that still need the user's attention or the server's work. */
export function isPending(entry: Pick<OutboxEntry, "status">): boolean {
  return entry.status === "queued" || entry.status === "sending" || entry.status === "failed";
}

/** Whether the server is still working on an entry (it will change without the user). */
export function isMoving(entry: Pick<OutboxEntry, "status">): boolean {
  return entry.status === "queued" || entry.status === "sending";
}

/**
 * The user's drafts, newest first, optionally one mailbox's. Every caller shares one cache of
 * all drafts (the navigation counts them, the composer invalidates it after a save), and a
 * mailbox's list is a selection from it.
 */
export function useDraftList(accountId?: string) {
  const { status } = useAuth();
  // Entries in the outbox are listed there, not here.
  const select = useCallback(
    (list: Schemas["DraftList"]) =>
      list.items.filter((item) => item.status === "draft" && (accountId === undefined || item.account_id === accountId)),
    [accountId],
  );
  return useQuery({
    queryKey: composeKeys.drafts,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/drafts", { signal })),
    enabled: status === "signed-in",
    select,
  });
}

function selectItems(list: Schemas["postwise__compose__schemas__OutboxList"]): OutboxEntry[] {
  return list.items;
}

/**
 * What is waiting to leave, leaving, failed, or sent in the last day. Read again every few
 * seconds while anything is queued or sending, so countdowns end in "Sent" on their own.
 */
export function useOutbox() {
  const { status } = useAuth();
  return useQuery({
    queryKey: composeKeys.outbox,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/outbox", { signal })),
    enabled: status === "signed-in",
    select: selectItems,
    refetchInterval: (query) => (query.state.data?.items.some(isMoving) ? OUTBOX_POLL_MS : false),
    refetchIntervalInBackground: false,
  });
}

/** Who a mailbox sends as: display name, send-as addresses and signature. */
export function useIdentity(accountId: string | undefined) {
  const { status } = useAuth();
  return useQuery({
    queryKey: composeKeys.identity(accountId ?? ""),
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET("/api/accounts/{account_id}/identity", {
          params: { path: { account_id: accountId ?? "" } },
          signal,
        }),
      ),
    enabled: status === "signed-in" && accountId !== undefined,
  });
}

/** Save a mailbox's identity (the whole of it: PUT). */
export function useSaveIdentity() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ accountId, identity }: { accountId: string; identity: Identity }) =>
      unwrap(
        await api.PUT("/api/accounts/{account_id}/identity", {
          params: { path: { account_id: accountId } },
          body: identity,
        }),
      ),
    onSuccess: (saved, { accountId }) => {
      queryClient.setQueryData(composeKeys.identity(accountId), saved);
      // The display name is also the name the mailbox is listed by.
      void queryClient.invalidateQueries({ queryKey: mailKeys.accounts });
    },
  });
}
