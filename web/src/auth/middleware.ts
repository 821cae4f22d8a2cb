import type { Middleware } from "openapi-fetch";

import { refreshSession } from "./refresh";
import { authStore } from "./store";

/**
 * openapi-fetch middleware: sends the in-memory access token as a bearer token
 * and, when an authenticated call answers 401, refreshes once (single-flight,
 * see refresh.ts) and retries the call once with the new token.
 */

/** Calls that authenticate by other means; their 401 is an answer, not an expired token. */
const NO_RETRY_PATHS = new Set([
  "/healthz",
  "/readyz",
  "/api/auth/register",
  "/api/auth/verify-email",
  "/api/auth/verify-email/resend",
  "/api/auth/login",
  "/api/auth/login/mfa",
  "/api/auth/refresh",
  "/api/auth/logout",
  "/api/auth/password/forgot",
  "/api/auth/password/reset",
  "/api/auth/password/strength",
]);

/** 401 codes that reject what the user typed (a password, a code), not the token. */
const CREDENTIAL_CODES = new Set(["invalid_credentials", "invalid_mfa_code"]);

// Request bodies are streams that fetch consumes, so a copy is kept to retry with.
const retryCopies = new WeakMap<Request, Request>();

function bearer(token: string): string {
  return `Bearer ${token}`;
}

async function problemCode(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json();
    if (typeof body === "object" && body !== null && "code" in body) {
      return typeof body.code === "string" ? body.code : undefined;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

export const authMiddleware: Middleware = {
  onRequest({ request, schemaPath }) {
    const token = authStore.accessToken();
    if (token !== null && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", bearer(token));
    }
    if (!NO_RETRY_PATHS.has(schemaPath)) retryCopies.set(request, request.clone());
    return request;
  },

  async onResponse({ request, response, options }) {
    const copy = retryCopies.get(request);
    retryCopies.delete(request);
    if (response.status !== 401 || copy === undefined) return undefined;
    const code = await problemCode(response);
    if (code !== undefined && CREDENTIAL_CODES.has(code)) return undefined;

    // Another call may have refreshed while this one was in flight: then the
    // token differs from the one sent, and retrying with it is enough.
    const sent = request.headers.get("Authorization");
    const current = authStore.accessToken();
    if (current === null || bearer(current) === sent) {
      try {
        if ((await refreshSession()) !== "refreshed") return undefined;
      } catch {
        return undefined; // refresh unavailable (network): report the original 401
      }
    }
    const token = authStore.accessToken();
    if (token === null) return undefined;
    copy.headers.set("Authorization", bearer(token));
    return options.fetch(copy);
  },
};
