import { authStore, isTokenResponse } from "./store";

/**
 * Exchange the refresh cookie for a new access token.
 *
 * The server rotates the refresh token on every use and treats a reused one as
 * theft (it revokes the whole session), so two refreshes must never race with
 * the same cookie:
 * - within a tab, concurrent callers share one in-flight request;
 * - across tabs, the request runs under the Web Lock "postwise-refresh". A tab
 *   that waited for the lock sends its request only after the other tab's
 *   response has set the rotated cookie, so it presents the new cookie and
 *   simply refreshes once more, sequentially.
 */

export const REFRESH_LOCK = "postwise-refresh";
export const REFRESH_PATH = "/api/auth/refresh";

export type RefreshOutcome = "refreshed" | "signed-out";

/** The refresh endpoint failed for a reason that says nothing about the session. */
export class RefreshUnavailableError extends Error {
  override readonly name = "RefreshUnavailableError";
}

let inflight: Promise<RefreshOutcome> | null = null;

/** Refresh once for all concurrent callers; resolves to the outcome. */
export function refreshSession(): Promise<RefreshOutcome> {
  inflight ??= underLock(requestRefresh).finally(() => {
    inflight = null;
  });
  return inflight;
}

async function underLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  if (locks && typeof locks.request === "function") {
    return await locks.request(REFRESH_LOCK, { mode: "exclusive" }, task);
  }
  return task();
}

async function requestRefresh(): Promise<RefreshOutcome> {
  let response: Response;
  try {
    response = await globalThis.fetch(REFRESH_PATH, {
      method: "POST",
      credentials: "same-origin",
      // Required on every cookie-authenticated call: a cross-site form cannot set it.
      headers: { "X-Postwise-CSRF": "1" },
      // The server rotates the cookie even when the page navigates away mid-call;
      // keepalive lets the browser still receive the response and store the new
      // cookie, instead of the next page presenting the old one (= reuse).
      keepalive: true,
    });
  } catch (error) {
    throw new RefreshUnavailableError(`refresh request failed: ${String(error)}`);
  }

  if (response.ok) {
    const body: unknown = await response.json().catch(() => undefined);
    if (!isTokenResponse(body)) {
      throw new RefreshUnavailableError("refresh answered without an access token");
    }
    authStore.setTokens(body);
    return "refreshed";
  }
  if (response.status === 401 || response.status === 403) {
    const before = authStore.getState();
    authStore.setSignedOut(before.status === "signed-in" ? "expired" : "anonymous");
    return "signed-out";
  }
  throw new RefreshUnavailableError(`refresh answered with status ${response.status}`);
}

/** When to refresh proactively: about a minute before the token expires. */
export function refreshDelay(expiresAt: number, now: number = Date.now()): number {
  const remaining = expiresAt - now;
  const margin = Math.min(60_000, remaining / 2);
  return Math.max(1_000, remaining - margin);
}
