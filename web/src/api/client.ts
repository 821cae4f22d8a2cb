import createClient from "openapi-fetch";

import { authMiddleware } from "@/auth/middleware";

import type { paths } from "./schema";

/**
 * Typed client for the Postwise API, generated from the server's OpenAPI
 * schema (`npm run gen:api`). The web app is served by the API process, so it
 * talks to its own origin. The access token is held in memory and added by
 * the auth middleware; the refresh token is an HttpOnly cookie. Nothing is
 * stored in JavaScript-readable storage.
 */
export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "" : window.location.origin,
  credentials: "same-origin",
  // Look fetch up per call, so tests and polyfills installed later are used.
  fetch: (request) => globalThis.fetch(request),
});
api.use(authMiddleware);

/** An HTTP error from the API; `problem` is the RFC 9457 body when present. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly problem: unknown;
  /** Seconds from a `Retry-After` header (429), when the server sent one. */
  readonly retryAfter: number | undefined;

  constructor(status: number, problem: unknown, retryAfter?: number) {
    super(problemTitle(problem) ?? `API request failed with status ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get("Retry-After");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function problemTitle(problem: unknown): string | undefined {
  if (typeof problem === "object" && problem !== null && "title" in problem) {
    const { title } = problem;
    return typeof title === "string" ? title : undefined;
  }
  return undefined;
}

interface FetchResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The body type of the success branch of an openapi-fetch result. */
type SuccessData<R> = R extends { data: infer D; error?: never } ? D : never;

/** Return the response body of a successful call, or throw an ApiError. */
export function unwrap<R extends FetchResult>(result: R): SuccessData<R> {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error, retryAfterSeconds(result.response));
  }
  return result.data as SuccessData<R>;
}
