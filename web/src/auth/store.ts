/**
 * The signed-in state of this tab, kept only in memory: the access token never
 * reaches localStorage/sessionStorage, and the refresh token lives in an
 * HttpOnly cookie the page cannot read. A reload therefore starts "restoring"
 * and asks the server for a new access token (see refresh.ts).
 */

export interface TokenResponse {
  access_token: string;
  expires_in: number;
}

/** Why the tab is signed out: "explicit" after sign-out, so no `?next=` is kept. */
export type SignedOutReason = "explicit" | "expired" | "anonymous";

export type AuthState =
  | { status: "restoring" }
  | { status: "signed-in"; accessToken: string; expiresAt: number }
  | { status: "signed-out"; reason: SignedOutReason };

type Listener = () => void;

const INITIAL: AuthState = { status: "restoring" };

let state: AuthState = INITIAL;
const listeners = new Set<Listener>();

function publish(next: AuthState): void {
  state = next;
  for (const listener of listeners) listener();
}

export const authStore = {
  getState(): AuthState {
    return state;
  },

  /** What prerendered HTML shows: the session is not known at build time. */
  getServerState(): AuthState {
    return INITIAL;
  },

  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },

  accessToken(): string | null {
    return state.status === "signed-in" ? state.accessToken : null;
  },

  setTokens(tokens: TokenResponse, now: number = Date.now()): void {
    publish({
      status: "signed-in",
      accessToken: tokens.access_token,
      expiresAt: now + tokens.expires_in * 1000,
    });
  },

  /** Sign the tab out; an existing signed-out state keeps its reason. */
  setSignedOut(reason: SignedOutReason): void {
    if (state.status === "signed-out") return;
    publish({ status: "signed-out", reason });
  },

  /** Back to the state of a fresh page load; for tests. */
  reset(): void {
    publish(INITIAL);
  },
};

/** Narrow an unknown JSON body to an access-token response. */
export function isTokenResponse(body: unknown): body is TokenResponse {
  return (
    typeof body === "object" &&
    body !== null &&
    "access_token" in body &&
    typeof body.access_token === "string" &&
    "expires_in" in body &&
    typeof body.expires_in === "number"
  );
}
