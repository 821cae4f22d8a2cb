/**
 * Recent searches, kept in this browser's localStorage so they survive a reload. Only query
 * texts are stored (no tokens, no mail), and SearchBar forgets them when the user signs out.
 */

export const RECENT_SEARCHES_KEY = "postwise.recentSearches";
export const MAX_RECENT_SEARCHES = 10;

function storage(): Storage | undefined {
  try {
    return typeof window === "undefined" ? undefined : window.localStorage;
  } catch {
    // Storage can be switched off (a privacy setting); recent searches are then not kept.
    return undefined;
  }
}

/** The recent searches, most recent first. */
export function loadRecentSearches(): string[] {
  const raw = storage()?.getItem(RECENT_SEARCHES_KEY);
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value)) return [];
    return value
      .filter((item): item is string => typeof item === "string" && item.trim() !== "")
      .slice(0, MAX_RECENT_SEARCHES);
  } catch {
    return [];
  }
}

function save(searches: string[]): void {
  try {
    storage()?.setItem(RECENT_SEARCHES_KEY, JSON.stringify(searches));
  } catch {
    // Full or refused: losing the history is better than failing the search.
  }
}

/** Put a search first (once), keeping the last ten; returns the new list. */
export function rememberSearch(query: string): string[] {
  const search = query.trim();
  if (search === "") return loadRecentSearches();
  const searches = [search, ...loadRecentSearches().filter((item) => item !== search)].slice(
    0,
    MAX_RECENT_SEARCHES,
  );
  save(searches);
  return searches;
}

export function clearRecentSearches(): void {
  try {
    storage()?.removeItem(RECENT_SEARCHES_KEY);
  } catch {
    // nothing kept, nothing to clear
  }
}
