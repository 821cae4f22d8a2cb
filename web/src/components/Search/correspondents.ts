import type { InfiniteData, QueryClient } from "@tanstack/react-query";

import { mailKeys } from "@/api/keys";
import type { components } from "@/api/schema";

type ThreadPage = components["schemas"]["ThreadPage"];
type Account = components["schemas"]["AccountOut"];

/** Someone who wrote in threads the app has already loaded. */
export interface Correspondent {
  name: string;
  address: string;
  /** How many loaded threads they wrote in: the ranking. */
  count: number;
}

function isThreadPages(data: unknown): data is InfiniteData<ThreadPage> {
  return (
    typeof data === "object" &&
    data !== null &&
    "pages" in data &&
    Array.isArray((data as { pages: unknown }).pages)
  );
}

/**
 * People from the thread lists in the query cache, most frequent first. No request: the lists
 * the user has looked at already hold the people they deal with, and suggestions must appear
 * as fast as they type. The user's own mailboxes are left out.
 */
export function collectCorrespondents(queryClient: QueryClient): Correspondent[] {
  const own = new Set(
    (queryClient.getQueryData<Account[]>(mailKeys.accounts) ?? [])
      .map((account) => account.email?.toLowerCase())
      .filter(Boolean),
  );
  const people = new Map<string, Correspondent>();
  const seenThreads = new Set<string>();
  for (const [, data] of queryClient.getQueriesData({ queryKey: mailKeys.threadLists })) {
    if (!isThreadPages(data)) continue;
    for (const page of data.pages) {
      for (const thread of page?.items ?? []) {
        // The same thread shows in several lists (inbox, unified, a search): count it once.
        if (seenThreads.has(thread.id)) continue;
        seenThreads.add(thread.id);
        for (const { name, address } of thread.participants ?? []) {
          const key = address.toLowerCase();
          if (!key || own.has(key)) continue;
          const person = people.get(key);
          if (person) {
            person.count += 1;
            if (!person.name && name) person.name = name;
          } else {
            people.set(key, { name, address, count: 1 });
          }
        }
      }
    }
  }
  return [...people.values()].sort((a, b) => b.count - a.count || a.address.localeCompare(b.address));
}

function score(person: Correspondent, typed: string): number {
  const address = person.address.toLowerCase();
  const words = person.name.toLowerCase().split(/[\s.,'"()-]+/);
  if (address.startsWith(typed) || words.some((word) => word.startsWith(typed))) return 2;
  if (address.includes(typed) || person.name.toLowerCase().includes(typed)) return 1;
  return 0;
}

/** The people whose name or address matches what is typed: word starts first, then by count. */
export function matchCorrespondents(
  people: readonly Correspondent[],
  typed: string,
  limit = 5,
): Correspondent[] {
  const text = typed.trim().toLowerCase();
  if (text === "") return people.slice(0, limit);
  return people
    .map((person) => ({ person, score: score(person, text) }))
    .filter((entry) => entry.score > 0)
    // Array.prototype.sort is stable, so equal scores keep the frequency order.
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((entry) => entry.person);
}
