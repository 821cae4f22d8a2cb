/**
 * Where to go after signing in. Only same-origin paths are followed, so a
 * crafted `?next=https://evil.example` (or `//evil.example`) cannot turn the
 * sign-in page into an open redirect.
 */
export function safeNext(next: string | null | undefined, fallback = "/"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) {
    return fallback;
  }
  try {
    const url = new URL(next, "http://postwise.invalid");
    if (url.origin !== "http://postwise.invalid") return fallback;
    if (url.pathname.startsWith("/signin")) return fallback;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return fallback;
  }
}

/** The sign-in address that comes back to `path` afterwards. */
export function signInUrl(path: string | null | undefined): string {
  const next = safeNext(path, "");
  return next && next !== "/" ? `/signin/?next=${encodeURIComponent(next)}` : "/signin/";
}
