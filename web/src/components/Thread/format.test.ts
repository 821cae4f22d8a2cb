import { describe, expect, it } from "vitest";

import { message } from "./fixtures";
import { foldIndex, formatShortDate, formatSize, recipientsSummary, unsubscribeTarget } from "./format";
import { splitLinks } from "./linkify";

describe("thread formatting", () => {
  it("writes sizes as people read them", () => {
    expect(formatSize(1)).toBe("1 byte");
    expect(formatSize(999)).toBe("999 bytes");
    expect(formatSize(1_234_567)).toBe("1.2 MB");
    expect(formatSize(340_000)).toBe("340 KB");
    expect(formatSize(2_000_000_000)).toBe("2 GB");
  });

  it("dates today by the clock and older mail by the day", () => {
    const now = new Date(2024, 2, 5, 18, 0);
    // A 24- or 12-hour clock, by locale.
    expect(formatShortDate(new Date(2024, 2, 5, 14, 5).toISOString(), now)).toMatch(/^(14|2).05/);
    expect(formatShortDate(new Date(2024, 0, 3, 9, 0).toISOString(), now)).not.toMatch(/2024/);
    expect(formatShortDate(new Date(2023, 11, 3, 9, 0).toISOString(), now)).toMatch(/2023/);
  });

  it("names recipients as Gmail does, the reader as 'me' and first", () => {
    const m = message({
      to: [{ name: "Ana Silva", address: "ana@example.com" }],
      cc: [
        { name: "", address: "bo@example.com" },
        { name: "Me", address: "Me@Example.com" },
      ],
    });
    expect(recipientsSummary(m, new Set(["me@example.com"]))).toBe("to me, Ana, bo");
    expect(recipientsSummary(message({ to: [] }), new Set())).toBe("to undisclosed recipients");
  });

  it("folds at the earlier of quote and signature, never the whole text", () => {
    const body = "Thanks!\n-- \nAna\n> old";
    expect(foldIndex(message({ body_text: body, signature_offset: 8, quote_offset: 16 }))).toBe(8);
    expect(foldIndex(message({ body_text: "> all quoted", quote_offset: 0 }))).toBeNull();
    expect(foldIndex(message({ body_text: body }))).toBeNull();
  });

  it("offers only https and mailto unsubscribe targets", () => {
    expect(unsubscribeTarget("<mailto:u@list.example>, <https://list.example/u?id=1>")).toBe(
      "https://list.example/u?id=1",
    );
    expect(unsubscribeTarget("<http://list.example/u>")).toBeNull();
    expect(unsubscribeTarget(null)).toBeNull();
  });
});

describe("links in plain text", () => {
  it("leaves sentence punctuation and unmatched brackets out of the link", () => {
    expect(splitLinks("See (https://example.com/a), or https://en.wikipedia.org/wiki/Mail_(disambiguation).")).toEqual([
      { text: "See (" },
      { text: "https://example.com/a", href: "https://example.com/a" },
      { text: "), or " },
      {
        text: "https://en.wikipedia.org/wiki/Mail_(disambiguation)",
        href: "https://en.wikipedia.org/wiki/Mail_(disambiguation)",
      },
      { text: "." },
    ]);
  });

  it("links www. addresses and email addresses, and nothing that only looks like a scheme", () => {
    expect(splitLinks("www.example.org and ana@example.com; javascript:alert(1)")).toEqual([
      { text: "www.example.org", href: "https://www.example.org/" },
      { text: " and " },
      { text: "ana@example.com", href: "mailto:ana@example.com" },
      { text: "; javascript:alert(1)" },
    ]);
  });
});
