import { describe, expect, it } from "vitest";

import { ApiError } from "./client";
import { describeSearchError, searchProblemOf } from "./search";

function refused(code: string, position: number) {
  return new ApiError(422, {
    type: "about:blank",
    title: "Invalid search query",
    status: 422,
    code: "invalid_query",
    detail: "server words",
    errors: [{ code, position, message: "server words" }],
  });
}

describe("describeSearchError", () => {
  it("says what is wrong in the user's words", () => {
    expect(describeSearchError(refused("unbalanced_quote", 7), 'report "quarterly')).toMatch(
      /^A quote is not closed\./,
    );
    expect(describeSearchError(refused("unbalanced_parenthesis", 0))).toMatch(/parenthesis is not closed/);
    expect(describeSearchError(refused("empty_query", 0))).toBe("Type something to search for.");
  });

  it("names the part of the query at fault", () => {
    expect(describeSearchError(refused("invalid_date", 6), "after:2024/13/01 x")).toBe(
      "“2024/13/01” isn't a date. Write days as year/month/day, like 2024/01/31.",
    );
    expect(describeSearchError(refused("unknown_value", 3), "is:purple")).toMatch(/^“purple” isn't something/);
    expect(describeSearchError(refused("missing_value", 2), "a from: ana")).toBe(
      "from: needs a value right after the colon, like from:something.",
    );
    expect(describeSearchError(refused("dangling_operator", 2), "a OR")).toBe("OR needs a search term on both sides.");
    expect(describeSearchError(refused("dangling_operator", 2), "a - b")).toMatch(/^A minus must be right before/);
  });

  it("counts the position in characters, not UTF-16 units", () => {
    // "📎" is one character (two UTF-16 units); the date starts at character 8.
    expect(describeSearchError(refused("invalid_date", 8), "📎 after:2024/99/01")).toMatch(/^“2024\/99\/01”/);
  });

  it("accepts the problem body as well as the error", () => {
    const body = (refused("empty_phrase", 0) as ApiError).problem;
    expect(describeSearchError(body)).toBe("There is nothing between the quotes.");
  });

  it("falls back to the server's detail for a code it does not know", () => {
    expect(describeSearchError(refused("brand_new_code", 0))).toBe("server words");
  });

  it("does not treat other failures as a bad query", () => {
    expect(searchProblemOf(new ApiError(500, { code: "internal" }))).toBeUndefined();
    expect(searchProblemOf(new ApiError(422, { code: "validation_error" }))).toBeUndefined();
    expect(searchProblemOf(new TypeError("offline"))).toBeUndefined();
    expect(searchProblemOf(refused("too_long", 1000))).toEqual({
      code: "too_long",
      position: 1000,
      detail: "server words",
    });
  });
});
