import { ApiError } from "./client";

/**
 * The words for a search query the server refuses (`GET /api/search`). A refused query answers 422
 * `invalid_query` whose `errors[0]` carries a stable `code` and the 0-based `position` of the
 * problem in code points (docs/search.md "Errors"); the server's own `message` counts
 * characters, which is developer talk, so the app says what to fix instead.
 */

/** The `code` values of search/query.py's ErrorCode. */
export type SearchErrorCode =
  | "empty_query"
  | "too_long"
  | "too_complex"
  | "unbalanced_quote"
  | "unbalanced_parenthesis"
  | "empty_group"
  | "empty_phrase"
  | "missing_value"
  | "unknown_value"
  | "invalid_date"
  | "invalid_age"
  | "invalid_size"
  | "dangling_operator";

export interface SearchProblem {
  code: string;
  /** 0-based offset into the query, in code points; null when the server gave none. */
  position: number | null;
  detail: string | null;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * The query problem in an API error (or a problem body); undefined for anything else, such as
 * a network failure, which is not the query's fault.
 */
export function searchProblemOf(error: unknown): SearchProblem | undefined {
  if (error instanceof ApiError && error.status !== 422) return undefined;
  const body = record(error instanceof ApiError ? error.problem : error);
  if (body?.code !== "invalid_query") return undefined;
  const first = Array.isArray(body.errors) ? record(body.errors[0]) : undefined;
  const code = typeof first?.code === "string" ? first.code : "invalid_query";
  const position = typeof first?.position === "number" ? first.position : null;
  const detail = typeof body.detail === "string" ? body.detail : null;
  return { code, position, detail };
}

/** The word of the query at a code-point offset, shortened for a sentence. */
function wordAtPosition(query: string, position: number): string | undefined {
  // `position` counts code points; JavaScript strings index UTF-16 units.
  const tail = Array.from(query).slice(position).join("");
  const word = /^\S+/.exec(tail)?.[0];
  if (word === undefined) return undefined;
  const chars = Array.from(word);
  return chars.length > 30 ? `${chars.slice(0, 29).join("")}…` : word;
}

type Describe = (word: string | undefined) => string;

const DESCRIPTIONS: Record<SearchErrorCode, Describe> = {
  empty_query: () => "Type something to search for.",
  too_long: () => "This search is too long. Shorten it to 1,000 characters or fewer.",
  too_complex: () => "This search has too many terms or parentheses. Make it simpler.",
  unbalanced_quote: () => "A quote is not closed. Add the missing \" or remove the stray one.",
  unbalanced_parenthesis: () => "A parenthesis is not closed, or closes nothing.",
  empty_group: () => "There is nothing between the parentheses.",
  empty_phrase: () => "There is nothing between the quotes.",
  missing_value: (word) => {
    const operator = word?.split(":")[0];
    return operator
      ? `${operator}: needs a value right after the colon, like ${operator}:something.`
      : "An operator needs a value right after the colon, like from:ana.";
  },
  unknown_value: (word) =>
    `${word ? `“${word}” isn't` : "That isn't"} something this search knows. ` +
    "Try is:unread, is:read, is:starred, is:unstarred or has:attachment.",
  invalid_date: (word) =>
    `${word ? `“${word}” isn't` : "That isn't"} a date. Write days as year/month/day, like 2024/01/31.`,
  invalid_age: (word) =>
    `${word ? `“${word}” isn't` : "That isn't"} an age. Write a number and d, w, m or y, like 7d.`,
  invalid_size: (word) =>
    `${word ? `“${word}” isn't` : "That isn't"} a size. Write a number and K, M or G, like 10M.`,
  dangling_operator: (word) =>
    word?.startsWith("-")
      ? "A minus must be right before what it leaves out, like -newsletter."
      : `${word === "OR" || word === "AND" || word === "|" ? word : "OR"} needs a search term on both sides.`,
};

function isKnownCode(code: string): code is SearchErrorCode {
  return code in DESCRIPTIONS;
}

/**
 * A sentence saying what is wrong with a refused search and how to fix it: "A quote is not
 * closed. …". Takes the ApiError (or the problem body); pass the query to name the offending
 * part ("“2024/13/01” isn't a date"). Falls back to the server's detail for a code this app
 * does not know yet.
 */
export function describeSearchError(problem: unknown, query?: string): string {
  const found = searchProblemOf(problem);
  if (found === undefined) return "This search couldn't be run. Try again.";
  if (isKnownCode(found.code)) {
    const word =
      query !== undefined && found.position !== null ? wordAtPosition(query, found.position) : undefined;
    return DESCRIPTIONS[found.code](word);
  }
  return found.detail ?? "This search couldn't be understood. Check its quotes and operators.";
}
