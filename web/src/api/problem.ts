import { ApiError } from "./client";

/** Reading RFC 9457 problem bodies (`{type,title,status,code,detail?,errors?}`) safely. */

export interface FieldProblem {
  field: string;
  in?: string;
  message: string;
  type?: string;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)
    : undefined;
}

function problemOf(error: unknown): Record<string, unknown> | undefined {
  return error instanceof ApiError ? record(error.problem) : undefined;
}

/** The stable `code` of an API error, e.g. "invalid_credentials". */
export function problemCode(error: unknown): string | undefined {
  const code = problemOf(error)?.code;
  return typeof code === "string" ? code : undefined;
}

/** `errors[]` of a validation problem, keyed by the field's last path segment. */
export function fieldErrors(error: unknown): Record<string, string> {
  const errors = problemOf(error)?.errors;
  const result: Record<string, string> = {};
  if (!Array.isArray(errors)) return result;
  for (const item of errors) {
    const entry = record(item);
    if (typeof entry?.field !== "string" || typeof entry.message !== "string") continue;
    const name = entry.field.split(/[.[\]]/).filter(Boolean).pop() ?? entry.field;
    result[name] ??= entry.message;
  }
  return result;
}

export interface PasswordFeedback {
  warning: string | null;
  suggestions: string[];
}

/** The zxcvbn feedback a `weak_password` problem carries. */
export function passwordFeedback(error: unknown): PasswordFeedback | undefined {
  const feedback = record(problemOf(error)?.feedback);
  if (feedback === undefined) return undefined;
  const warning = typeof feedback.warning === "string" && feedback.warning ? feedback.warning : null;
  const suggestions = Array.isArray(feedback.suggestions)
    ? feedback.suggestions.filter((item): item is string => typeof item === "string")
    : [];
  return { warning, suggestions };
}

/** A sentence for people: the problem's detail or title, or what went wrong in transit. */
export function errorMessage(error: unknown, byCode: Record<string, string> = {}): string {
  if (error instanceof ApiError) {
    const code = problemCode(error);
    if (code !== undefined && byCode[code] !== undefined) return byCode[code];
    if (error.status === 429) {
      return error.retryAfter !== undefined
        ? `Too many attempts. Try again in ${formatWait(error.retryAfter)}.`
        : "Too many attempts. Try again in a little while.";
    }
    const problem = problemOf(error);
    if (typeof problem?.detail === "string" && problem.detail) return problem.detail;
    if (error.status >= 500) return "The server had a problem. Try again in a moment.";
    return error.message;
  }
  if (error instanceof TypeError) return "Cannot reach the server. Check your connection.";
  return "Something went wrong. Try again.";
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}
