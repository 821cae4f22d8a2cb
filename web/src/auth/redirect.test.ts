import { describe, expect, it } from "vitest";

import { safeNext, signInUrl } from "./redirect";

describe("safeNext", () => {
  it.each([
    ["/sent/", "/sent/"],
    ["/settings/security/?tab=1#mfa", "/settings/security/?tab=1#mfa"],
    [null, "/"],
    ["", "/"],
    ["https://evil.example/", "/"],
    ["//evil.example/", "/"],
    ["/\\evil.example", "/"],
    ["javascript:alert(1)", "/"],
    ["/signin/?next=/", "/"],
  ])("%s -> %s", (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});

describe("signInUrl", () => {
  it("keeps where to come back to, except for the inbox", () => {
    expect(signInUrl("/sent/?q=x")).toBe("/signin/?next=%2Fsent%2F%3Fq%3Dx");
    expect(signInUrl("/")).toBe("/signin/");
    expect(signInUrl("//evil.example")).toBe("/signin/");
  });
});
