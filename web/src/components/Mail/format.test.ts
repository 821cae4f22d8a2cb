import { describe, expect, it } from "vitest";

import { formatListDate, formatSenders } from "./format";

const me = new Set(["me@example.com"]);
const ana = { name: "Ana Lima", address: "ana@example.com" };
const bo = { name: "Bo Berg", address: "bo@example.com" };
const self = { name: "Me Myself", address: "ME@example.com" };

describe("formatSenders", () => {
  it("names one sender in full and adds the message count", () => {
    expect(formatSenders([ana], me, 1)).toBe("Ana Lima");
    expect(formatSenders([ana], me, 4)).toBe("Ana Lima (4)");
  });

  it("calls the user's own address 'me', whatever its case", () => {
    expect(formatSenders([self], me, 1)).toBe("me");
    expect(formatSenders([ana, self], me, 2)).toBe("Ana, me (2)");
  });

  it("lists several senders by first name", () => {
    expect(formatSenders([ana, bo], me, 3)).toBe("Ana, Bo (3)");
  });

  it("shortens long lists to the first and the last two", () => {
    const people = ["Ana A", "Bo B", "Cy C", "Di D"].map((name, n) => ({ name, address: `${n}@x.org` }));
    expect(formatSenders(people, me, 9)).toBe("Ana … Cy, Di (9)");
  });

  it("falls back to the address's local part when there is no name", () => {
    expect(formatSenders([{ name: "", address: "news@shop.example" }], me, 1)).toBe("news");
    expect(formatSenders([], me, 1)).toBe("(no sender)");
  });
});

describe("formatListDate", () => {
  const now = new Date(2026, 11, 14, 18, 30);

  it("shows the time for today", () => {
    expect(formatListDate(new Date(2026, 11, 14, 14, 5).toISOString(), now, "en-GB")).toBe("14:05");
  });

  it("shows day and month earlier this year", () => {
    expect(formatListDate(new Date(2026, 11, 3, 9, 0).toISOString(), now, "en-GB")).toBe("3 Dec");
    expect(formatListDate(new Date(2026, 11, 13, 23, 59).toISOString(), now, "en-GB")).toBe("13 Dec");
  });

  it("adds the year before this year", () => {
    expect(formatListDate(new Date(2024, 11, 3, 9, 0).toISOString(), now, "en-GB")).toBe("3 Dec 2024");
  });

  it("follows the reader's locale", () => {
    expect(formatListDate(new Date(2026, 11, 3).toISOString(), now, "en-US")).toBe("Dec 3");
  });

  it("says nothing for a date it cannot read", () => {
    expect(formatListDate("not a date", now)).toBe("");
  });
});
