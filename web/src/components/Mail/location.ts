"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

import type { ThreadListParams } from "@/api/keys";

/**
 * Where the user is in the mail view. A static export has no dynamic routes, so the whole
 * state lives in the query string of `/`: `folder` (a role or a folder id; inbox when absent),
 * `account` (one mailbox; absent = every mailbox), `q` (a search) and `thread` (the open one).
 */
export interface MailLocation {
  folder: string;
  account?: string;
  q?: string;
  thread?: string;
}

export const DEFAULT_FOLDER = "inbox";
/** Starred has no folder of its own: it is a search. */
export const STARRED_QUERY = "is:starred";

function value(params: URLSearchParams | null, name: string): string | undefined {
  const raw = params?.get(name)?.trim();
  return raw ? raw : undefined;
}

export function parseLocation(params: URLSearchParams | null): MailLocation {
  return {
    folder: value(params, "folder") ?? DEFAULT_FOLDER,
    account: value(params, "account"),
    q: value(params, "q"),
    thread: value(params, "thread"),
  };
}

/** The link to a place in the mail view; the inbox is the bare `/`. */
export function mailHref(location: Partial<MailLocation>): string {
  const params = new URLSearchParams();
  if (location.folder && location.folder !== DEFAULT_FOLDER && !location.q) params.set("folder", location.folder);
  if (location.account) params.set("account", location.account);
  if (location.q) params.set("q", location.q);
  if (location.thread) params.set("thread", location.thread);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

/**
 * The list a location shows. A search ignores the folder on the server, so every search of
 * the same words shares one cache whatever folder it was typed in.
 */
export function listParamsOf(location: MailLocation): ThreadListParams {
  return location.q
    ? { folder: DEFAULT_FOLDER, account: location.account, q: location.q }
    : { folder: location.folder, account: location.account };
}

/** Whether two locations show the same list (the open thread aside). */
export function sameList(a: MailLocation, b: MailLocation): boolean {
  if (a.q || b.q) return a.q === b.q && a.account === b.account;
  return a.folder === b.folder && a.account === b.account;
}

export interface MailNavigation {
  location: MailLocation;
  /** Go somewhere in the mail view; `replace` keeps the history entry (moving between threads). */
  go: (location: Partial<MailLocation>, options?: { replace?: boolean }) => void;
}

/** The current mail location and a way to change it (needs a Suspense boundary above it). */
export function useMailLocation(): MailNavigation {
  const searchParams = useSearchParams();
  const router = useRouter();
  const key = searchParams?.toString() ?? "";
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the string is the identity
  const location = useMemo(() => parseLocation(searchParams), [key]);
  const go = useCallback(
    (next: Partial<MailLocation>, options?: { replace?: boolean }) => {
      const href = mailHref({ folder: DEFAULT_FOLDER, ...next });
      if (options?.replace) router.replace(href, { scroll: false });
      else router.push(href, { scroll: false });
    },
    [router],
  );
  return useMemo(() => ({ location, go }), [location, go]);
}
