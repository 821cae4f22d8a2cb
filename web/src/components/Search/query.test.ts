import { describe, expect, it } from "vitest";

import {
  addTerm,
  chipLabel,
  completeOperator,
  dateRange,
  formatTerm,
  hasFlag,
  joinQuery,
  parseDay,
  personQuery,
  quoteValue,
  removeChips,
  replaceWord,
  setDateRange,
  setFlag,
  splitQuery,
  tokenize,
  wordAt,
} from "./query";

const labels = (query: string) => splitQuery(query).chips.map((chip) => chip.label);

describe("tokenize", () => {
  it("reads operators, phrases, negation and OR as the server does", () => {
    expect(tokenize('-from:ana subject:"q1 report" a OR b|c (x)')?.map((t) => [t.kind, t.text])).toEqual([
      ["not", "-"],
      ["operator", "from"],
      ["word", "ana"],
      ["operator", "subject"],
      ["phrase", "q1 report"],
      ["word", "a"],
      ["or", "OR"],
      ["word", "b"],
      ["or", "|"],
      ["word", "c"],
      ["lparen", "("],
      ["word", "x"],
      ["rparen", ")"],
    ]);
  });

  it("takes whatever follows an operator as its value", () => {
    expect(tokenize("subject:OR subject:-draft")?.map((t) => t.kind)).toEqual([
      "operator",
      "word",
      "operator",
      "word",
    ]);
  });

  it("keeps unknown prefixes, times, links and dashes inside words as words", () => {
    expect(tokenize("https://x.org 10:30 category:social e-mail or")?.map((t) => t.kind)).toEqual([
      "word",
      "word",
      "word",
      "word",
      "word",
    ]);
  });

  it("gives up on an unclosed quote", () => {
    expect(tokenize('report "quarterly')).toBeNull();
  });
});

describe("splitQuery", () => {
  it("turns the brief's examples into chips", () => {
    expect(labels("from:ana")).toEqual(["From: ana"]);
    expect(labels("has:attachment")).toEqual(["Has attachment"]);
    expect(labels("after:2024/01/01")).toEqual(["After 1 Jan 2024"]);
  });

  it("keeps the rest of the query as text", () => {
    const { chips, rest } = splitQuery('budget from:ana  "annual   report" has:attachment -spam');
    expect(chips.map((chip) => chip.raw)).toEqual(["from:ana", "has:attachment"]);
    // Spaces inside a phrase are the user's; only the joins are tidied.
    expect(rest).toBe('budget "annual   report" -spam');
  });

  it("labels every kind of filter", () => {
    expect(
      labels(
        'to:bo cc:cy bcc:di subject:"q1 plan" filename:pdf is:unread is:starred in:junk label:Work ' +
          "before:2024-2-1 newer_than:7d older_than:1y larger:10M smaller:500k size:20000",
      ),
    ).toEqual([
      "To: bo",
      "Cc: cy",
      "Bcc: di",
      "Subject: q1 plan",
      "Attachment name: pdf",
      "Unread",
      "Starred",
      "In: Spam",
      "In: Work",
      "Before 1 Feb 2024",
      "Newer than 7 days",
      "Older than 1 year",
      "Larger than 10 MB",
      "Smaller than 500 KB",
      "Larger than 20,000 bytes",
    ]);
  });

  it("says what a negated filter means", () => {
    expect(labels("-from:ana -has:attachment -is:unread -is:starred -in:spam")).toEqual([
      "Not from: ana",
      "No attachment",
      "Read",
      "Not starred",
      "Not in: Spam",
    ]);
  });

  it("accepts operator names in any case", () => {
    expect(labels("From:ana HAS:Attachment")).toEqual(["From: ana", "Has attachment"]);
  });

  it("leaves values the server would refuse as text", () => {
    const { chips, rest } = splitQuery("is:purple has:foo after:2024/13/01 before:01/02/2024 older_than:0d larger:1.5");
    expect(chips).toEqual([]);
    expect(rest).toBe("is:purple has:foo after:2024/13/01 before:01/02/2024 older_than:0d larger:1.5");
    expect(parseDay("2024/02/30")).toBeUndefined();
    expect(parseDay("2024/02/29")).toEqual({ year: 2024, month: 2, day: 29 });
  });

  it("makes no chip where removing it would change the rest", () => {
    for (const query of [
      "from:ana OR from:bo",
      "a OR from:ana",
      "from:ana | b",
      "from:ana AND b",
      "(from:ana has:attachment)",
      "from:(ana OR bo)",
      "--from:ana",
      "from: ana",
      'subject:""',
    ]) {
      expect(splitQuery(query).chips, query).toEqual([]);
    }
  });

  it("still finds top-level filters beside groups and ORs", () => {
    const { chips, rest } = splitQuery("(a OR b) from:ana c OR d is:unread");
    expect(chips.map((chip) => chip.raw)).toEqual(["from:ana", "is:unread"]);
    expect(rest).toBe("(a OR b) c OR d");
  });

  it("finds no chips in a query with an open quote", () => {
    expect(splitQuery('from:ana "oops')).toEqual({ chips: [], rest: 'from:ana "oops' });
  });

  it("round-trips through joinQuery without changing the meaning", () => {
    const { chips, rest } = splitQuery("budget has:attachment OR x from:ana");
    expect(joinQuery(chips, rest)).toBe("from:ana budget has:attachment OR x");
    expect(joinQuery([], "  ")).toBe("");
  });
});

describe("edits", () => {
  it("quotes values that need it", () => {
    expect(quoteValue("ana@example.com")).toBe("ana@example.com");
    expect(quoteValue("  Ana  Lima ")).toBe('"Ana Lima"');
    expect(quoteValue('say "hi"')).toBe('"say hi"');
    expect(quoteValue("a(b)")).toBe('"a(b)"');
    expect(quoteValue("  ")).toBeUndefined();
    expect(formatTerm("from", "Ana Lima")).toBe('from:"Ana Lima"');
  });

  it("adds a term once", () => {
    expect(addTerm("budget", "from:ana")).toBe("budget from:ana");
    expect(addTerm("budget from:Ana", "from:ana")).toBe("budget from:Ana");
    expect(addTerm("", "has:attachment")).toBe("has:attachment");
  });

  it("removes filters and keeps the rest as written", () => {
    expect(removeChips('x from:ana "a  b" from:bo', (chip) => chip.value === "ana")).toBe('x "a  b" from:bo');
  });

  it("turns flags on and off", () => {
    expect(setFlag("budget", "is:unread", true)).toBe("budget is:unread");
    expect(hasFlag("budget is:unread", "is:unread")).toBe(true);
    expect(hasFlag("budget -is:unread", "is:unread")).toBe(false);
    expect(setFlag("budget is:unread has:attachment", "is:unread", false)).toBe("budget has:attachment");
    // A negated flag is another filter: turning the flag off leaves it.
    expect(setFlag("-is:starred", "is:starred", false)).toBe("-is:starred");
  });

  it("replaces the date range", () => {
    const query = "x after:2023/01/01 before:2023/02/01";
    expect(dateRange(query)).toEqual({
      after: { year: 2023, month: 1, day: 1 },
      before: { year: 2023, month: 2, day: 1 },
    });
    expect(setDateRange(query, { after: { year: 2024, month: 3, day: 5 } })).toBe("x after:2024/03/05");
    expect(setDateRange(query, {})).toBe("x");
  });
});

describe("typing", () => {
  it("finds the word at the caret", () => {
    expect(wordAt("from:an budget", 7)).toEqual({ start: 0, end: 7, word: "from:an" });
    expect(wordAt("a has", 5)).toEqual({ start: 2, end: 5, word: "has" });
    expect(wordAt("a ", 2)).toEqual({ start: 2, end: 2, word: "" });
  });

  it("replaces the word at the caret", () => {
    expect(replaceWord("budget ha", 9, "has:attachment", { space: true })).toEqual({
      text: "budget has:attachment ",
      caret: 22,
    });
    expect(replaceWord("fr budget", 2, "from:", { space: false })).toEqual({ text: "from: budget", caret: 5 });
  });

  it("completes operators from two letters", () => {
    expect(completeOperator("h")).toEqual([]);
    expect(completeOperator("ha").map((c) => c.text)).toEqual(["has:attachment"]);
    expect(completeOperator("has:").map((c) => c.text)).toEqual(["has:attachment"]);
    expect(completeOperator("is:u").map((c) => c.text)).toEqual(["is:unread", "is:unstarred"]);
    expect(completeOperator("-fr").map((c) => c.text)).toEqual(["-from:"]);
    expect(completeOperator("Newer").map((c) => c.text)).toEqual(["newer_than:"]);
    expect(completeOperator("has:attachment")).toEqual([]);
    expect(completeOperator("budget")).toEqual([]);
    expect(completeOperator("ha")[0]).toMatchObject({ label: "Has attachment", needsValue: false });
    expect(completeOperator("fro")[0]).toMatchObject({ needsValue: true });
  });

  it("recognises a word that asks for a person", () => {
    expect(personQuery("ana")).toEqual({ field: "from", text: "ana" });
    expect(personQuery("to:bo")).toEqual({ field: "to", text: "bo" });
    expect(personQuery("From:")).toEqual({ field: "from", text: "" });
    expect(personQuery("subject:x")).toBeUndefined();
    expect(personQuery('"ana')).toBeUndefined();
    expect(personQuery("-ana")).toBeUndefined();
  });

  it("labels unknown fields only through chipLabel's known operators", () => {
    expect(chipLabel("from", "")).toBeUndefined();
    expect(chipLabel("after", "2024/01/01", true)).toBe("Not after 1 Jan 2024");
  });
});
