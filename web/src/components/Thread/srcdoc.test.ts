import { describe, expect, it } from "vitest";

import { buildSrcdoc, referencedContentIds, replaceContentIds } from "./srcdoc";

describe("inline picture references", () => {
  const html =
    '<img src="cid:part1.ABC%40example.com" alt="a">' +
    '<td background="cid:bg@example.com"></td>' +
    '<div style="background-image:url(&quot;cid:tile@example.com&quot;)"></div>' +
    "<p>write to cid:nobody@example.com</p>";

  it("finds the Content-IDs used in tags, decoded and lower-cased", () => {
    expect([...referencedContentIds(html)].sort()).toEqual([
      "bg@example.com",
      "part1.abc@example.com",
      "tile@example.com",
    ]);
  });

  it("points known ones at their fetched copies and leaves the rest", () => {
    const urls = new Map([
      ["part1.abc@example.com", "blob:x/1"],
      ["tile@example.com", "blob:x/2"],
      ["nobody@example.com", "blob:x/3"],
    ]);
    expect(replaceContentIds(html, urls)).toBe(
      '<img src="blob:x/1" alt="a">' +
        '<td background="cid:bg@example.com"></td>' +
        '<div style="background-image:url(&quot;blob:x/2&quot;)"></div>' +
        "<p>write to cid:nobody@example.com</p>",
    );
  });
});

describe("buildSrcdoc", () => {
  it("puts the policy before anything the mail brings", () => {
    const doc = buildSrcdoc('<meta http-equiv="refresh" content="0;url=https://evil.example">', {
      allowRemoteImages: false,
    });
    expect(doc.indexOf("Content-Security-Policy")).toBeLessThan(doc.indexOf("<body>"));
    expect(doc).toContain("default-src 'none'");
    expect(doc).toContain("base-uri 'none'");
  });
});
