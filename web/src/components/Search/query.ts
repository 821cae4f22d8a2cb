/**
 * The search language as the search bar sees it: which terms of a query are simple filters that
 * can be shown as chips, the words on those chips, edits that add or remove filters, and
 * completions of half-typed operators.
 *
 * The server (src/postwise/search/query.py, docs/search.md) is the judge of what a query means
 * and reports errors; this module mirrors its tokenizer only so far as to find filter terms
 * safely. A term becomes a chip only where removing it or moving it cannot change what the rest
 * of the query means: at the top level (not inside parentheses) and not joined to a neighbour by
 * `OR`/`AND`. Top-level terms are ANDed, so chips can sit in front of the remaining text.
 */

export type OperatorName =
  | "from"
  | "to"
  | "cc"
  | "bcc"
  | "subject"
  | "filename"
  | "has"
  | "is"
  | "in"
  | "before"
  | "after"
  | "older_than"
  | "newer_than"
  | "larger"
  | "smaller";

/** Operator names as typed (lower case) to the operator they are; `label:` and `size:` are aliases. */
const OPERATORS: Record<string, OperatorName> = {
  from: "from",
  to: "to",
  cc: "cc",
  bcc: "bcc",
  subject: "subject",
  filename: "filename",
  has: "has",
  is: "is",
  in: "in",
  label: "in",
  before: "before",
  after: "after",
  older_than: "older_than",
  newer_than: "newer_than",
  larger: "larger",
  size: "larger",
  smaller: "smaller",
};

type TokenKind = "word" | "phrase" | "lparen" | "rparen" | "or" | "and" | "not" | "operator";

export interface Token {
  kind: TokenKind;
  /** A word, a phrase's inside, or an operator's name as typed. */
  text: string;
  start: number;
  end: number;
}

const DELIMITERS = new Set(["(", ")", '"', "|"]);
const OPERATOR_PREFIX = /^([A-Za-z_]+):/;

function isSpace(char: string): boolean {
  return /\s/.test(char);
}

/**
 * Split a query into tokens as the server does; null when a quote is not closed (the server
 * refuses such a query, so no part of it is treated as a filter).
 */
export function tokenize(query: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  // Right after `from:` the next run is the value whatever it looks like (`subject:OR`).
  let afterOperator = false;
  while (i < query.length) {
    const char = query[i] as string;
    if (isSpace(char)) {
      i += 1;
      afterOperator = false;
      continue;
    }
    if (char === '"') {
      const close = query.indexOf('"', i + 1);
      if (close < 0) return null;
      tokens.push({ kind: "phrase", text: query.slice(i + 1, close), start: i, end: close + 1 });
      i = close + 1;
      afterOperator = false;
      continue;
    }
    if (char === "(" || char === ")" || char === "|") {
      const kind = char === "(" ? "lparen" : char === ")" ? "rparen" : "or";
      tokens.push({ kind, text: char, start: i, end: i + 1 });
      i += 1;
      afterOperator = false;
      continue;
    }
    let end = i;
    while (end < query.length && !isSpace(query[end] as string) && !DELIMITERS.has(query[end] as string)) {
      end += 1;
    }
    const run = query.slice(i, end);
    const operator = OPERATOR_PREFIX.exec(run);
    if (afterOperator) {
      tokens.push({ kind: "word", text: run, start: i, end });
    } else if (char === "-") {
      // Only the dash: what follows is read on the next turn, as the server does.
      end = i + 1;
      tokens.push({ kind: "not", text: "-", start: i, end });
    } else if (operator && (operator[1] as string).toLowerCase() in OPERATORS) {
      end = i + operator[0].length;
      tokens.push({ kind: "operator", text: operator[1] as string, start: i, end });
      i = end;
      afterOperator = true;
      continue;
    } else if (run === "OR" || run === "AND") {
      tokens.push({ kind: run === "OR" ? "or" : "and", text: run, start: i, end });
    } else {
      tokens.push({ kind: "word", text: run, start: i, end });
    }
    i = end;
    afterOperator = false;
  }
  return tokens;
}

// --- values and labels --------------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY = /^([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})$/;
const AGE = /^([0-9]{1,5})([dwmy])$/i;
const SIZE = /^([0-9]{1,15})(?:\.([0-9]{1,6}))?([kmg]?)b?$/i;

export interface Day {
  year: number;
  month: number;
  day: number;
}

/** `2024/01/31` or `2024-1-31` as a calendar day; undefined for anything else, as the server. */
export function parseDay(text: string): Day | undefined {
  const match = DAY.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[3]), Number(match[4])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2024/02/30 over into March; a real day survives the round trip.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return { year, month, day };
}

/** "1 Jan 2024": the house format for dates of other years (UI.md). */
export function formatDay({ year, month, day }: Day): string {
  return `${day} ${MONTHS[month - 1]} ${year}`;
}

/** The operator form of a day: `2024/01/05`. */
export function dayTerm({ year, month, day }: Day): string {
  return `${year}/${String(month).padStart(2, "0")}/${String(day).padStart(2, "0")}`;
}

/** The value of an `<input type="date">` (`2024-01-05`). */
export function dayInputValue({ year, month, day }: Day): string {
  return dayTerm({ year, month, day }).replaceAll("/", "-");
}

const AGE_UNITS: Record<string, string> = { d: "day", w: "week", m: "month", y: "year" };

function describeAge(text: string): string | undefined {
  const match = AGE.exec(text.trim());
  if (!match || Number(match[1]) === 0) return undefined;
  const amount = Number(match[1]);
  const unit = AGE_UNITS[(match[2] as string).toLowerCase()] as string;
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

function describeSize(text: string): string | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const [, whole, fraction, unit] = match as unknown as [string, string, string | undefined, string];
  if (fraction !== undefined && unit === "") return undefined;
  if (unit === "") return `${Number(whole).toLocaleString("en")} bytes`;
  return `${whole}${fraction === undefined ? "" : `.${fraction}`} ${unit.toUpperCase()}B`;
}

const FOLDER_NAMES: Record<string, string> = {
  inbox: "Inbox",
  sent: "Sent",
  drafts: "Drafts",
  trash: "Trash",
  spam: "Spam",
  junk: "Spam",
  archive: "Archive",
  all: "All mail",
  anywhere: "All mail",
};

const FIELD_NAMES: Partial<Record<OperatorName, string>> = {
  from: "From",
  to: "To",
  cc: "Cc",
  bcc: "Bcc",
  subject: "Subject",
  filename: "Attachment name",
  in: "In",
};

const FLAG_LABELS: Record<string, [plain: string, negated: string]> = {
  "has:attachment": ["Has attachment", "No attachment"],
  "is:unread": ["Unread", "Read"],
  "is:read": ["Read", "Unread"],
  "is:starred": ["Starred", "Not starred"],
  "is:unstarred": ["Not starred", "Starred"],
};

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * What a chip for `operator:value` says, or undefined when the value is not one the server
 * accepts (`is:purple`, `after:2024/13/01`): those stay text, and the server's error explains.
 */
export function chipLabel(operator: OperatorName, value: string, negated = false): string | undefined {
  const label = plainLabel(operator, value);
  if (label === undefined) return undefined;
  if (!negated) return label;
  const flag = FLAG_LABELS[`${operator}:${value.trim().toLowerCase()}`];
  return flag ? flag[1] : `Not ${lowerFirst(label)}`;
}

function plainLabel(operator: OperatorName, value: string): string | undefined {
  if (value === "") return undefined;
  switch (operator) {
    case "has":
    case "is":
      return FLAG_LABELS[`${operator}:${value.trim().toLowerCase()}`]?.[0];
    case "in":
      return `In: ${FOLDER_NAMES[value.trim().toLowerCase()] ?? value}`;
    case "after":
    case "before": {
      const day = parseDay(value);
      return day && `${operator === "after" ? "After" : "Before"} ${formatDay(day)}`;
    }
    case "newer_than":
    case "older_than": {
      const age = describeAge(value);
      return age && `${operator === "newer_than" ? "Newer" : "Older"} than ${age}`;
    }
    case "larger":
    case "smaller": {
      const size = describeSize(value);
      return size && `${operator === "larger" ? "Larger" : "Smaller"} than ${size}`;
    }
    default:
      return `${FIELD_NAMES[operator]}: ${value}`;
  }
}

// --- chips --------------------------------------------------------------------------------------

export interface SearchChip {
  /** The term as written in the query, e.g. `-from:"Ana Lima"`. */
  raw: string;
  /** Where the term sits in the query it was read from. */
  start: number;
  end: number;
  operator: OperatorName;
  /** The value without quotes. */
  value: string;
  negated: boolean;
  /** What the chip says: "From: ana", "Has attachment", "After 1 Jan 2024". */
  label: string;
}

export interface SplitQuery {
  chips: SearchChip[];
  /** The query without the chip terms: words, phrases, groups, OR-ed terms. */
  rest: string;
}

function isJoiner(token: Token | undefined): boolean {
  return token !== undefined && (token.kind === "or" || token.kind === "and");
}

/** The chip for the operator at `index`, if the term is a simple top-level filter. */
function chipAt(query: string, tokens: Token[], index: number): SearchChip | undefined {
  const operator = tokens[index] as Token;
  const value = tokens[index + 1];
  if (value === undefined || value.start !== operator.end) return undefined;
  if (value.kind !== "word" && value.kind !== "phrase") return undefined;
  let first = index;
  const dash = tokens[index - 1];
  const negated = dash?.kind === "not" && dash.end === operator.start;
  if (negated) {
    first -= 1;
    // `--from:x` negates twice; leave such oddities to the server.
    const before = tokens[index - 2];
    if (before?.kind === "not" && before.end === dash.start) return undefined;
  }
  if (isJoiner(tokens[first - 1]) || isJoiner(tokens[index + 2])) return undefined;
  const name = OPERATORS[operator.text.toLowerCase()] as OperatorName;
  const label = chipLabel(name, value.text, negated);
  if (label === undefined) return undefined;
  const start = (tokens[first] as Token).start;
  return {
    raw: query.slice(start, value.end),
    start,
    end: value.end,
    operator: name,
    value: value.text,
    negated,
    label,
  };
}

/** Pull the filter terms of a query out as chips; the rest stays text. */
export function splitQuery(query: string): SplitQuery {
  const tokens = tokenize(query);
  if (tokens === null) return { chips: [], rest: query.trim() };
  const chips: SearchChip[] = [];
  let depth = 0;
  tokens.forEach((token, index) => {
    if (token.kind === "lparen") depth += 1;
    if (token.kind === "rparen") depth = Math.max(0, depth - 1);
    if (token.kind !== "operator" || depth > 0) return;
    const chip = chipAt(query, tokens, index);
    if (chip) chips.push(chip);
  });
  return { chips, rest: cut(query, chips) };
}

/** The query without the given terms (in order), the remaining pieces joined by one space. */
function cut(query: string, terms: readonly SearchChip[]): string {
  const pieces: string[] = [];
  let cursor = 0;
  for (const term of terms) {
    pieces.push(query.slice(cursor, term.start));
    cursor = term.end;
  }
  pieces.push(query.slice(cursor));
  // Cuts fall between tokens, never inside a phrase, so trimming the pieces is safe.
  return pieces
    .map((piece) => piece.trim())
    .filter(Boolean)
    .join(" ");
}

/** The query of chips and text: chips first (top-level terms are ANDed, so order is free). */
export function joinQuery(chips: readonly Pick<SearchChip, "raw">[], rest: string): string {
  return [...chips.map((chip) => chip.raw), rest.trim()].filter(Boolean).join(" ");
}

// --- edits --------------------------------------------------------------------------------------

/** A value as the query language writes it: quoted when it has spaces or syntax in it. */
export function quoteValue(value: string): string | undefined {
  // A phrase cannot contain a quote (there is no escape), so quotes are dropped.
  const clean = value.replaceAll('"', "").trim().replace(/\s+/g, " ");
  if (clean === "") return undefined;
  return /[\s()|]/.test(clean) ? `"${clean}"` : clean;
}

/** `from:ana`, `subject:"annual report"`; undefined for an empty value. */
export function formatTerm(operator: OperatorName, value: string): string | undefined {
  const quoted = quoteValue(value);
  return quoted === undefined ? undefined : `${operator}:${quoted}`;
}

function sameTerm(chip: SearchChip, operator: OperatorName, value: string): boolean {
  return !chip.negated && chip.operator === operator && chip.value.toLowerCase() === value.toLowerCase();
}

/** Add a term at the end unless the query already has it as a filter. */
export function addTerm(query: string, term: string): string {
  const { chips } = splitQuery(term);
  const [added] = chips;
  if (added && splitQuery(query).chips.some((chip) => sameTerm(chip, added.operator, added.value))) {
    return query.trim();
  }
  return [query.trim(), term].filter(Boolean).join(" ");
}

/** Remove the filter terms that `match` picks, keeping everything else as written and where it was. */
export function removeChips(query: string, match: (chip: SearchChip) => boolean): string {
  return cut(query, splitQuery(query).chips.filter(match));
}

export type FlagTerm = "has:attachment" | "is:unread" | "is:starred";

/** Whether the query has this flag as a (not negated) filter. */
export function hasFlag(query: string, flag: FlagTerm): boolean {
  const [operator, value] = flag.split(":") as [OperatorName, string];
  return splitQuery(query).chips.some((chip) => sameTerm(chip, operator, value));
}

/** Turn a flag filter on or off. */
export function setFlag(query: string, flag: FlagTerm, on: boolean): string {
  const [operator, value] = flag.split(":") as [OperatorName, string];
  if (on) return addTerm(query, flag);
  return removeChips(query, (chip) => sameTerm(chip, operator, value));
}

export interface DateRange {
  after?: Day;
  before?: Day;
}

/** The `after:`/`before:` filters of a query (the last of each wins, as in the server's AND). */
export function dateRange(query: string): DateRange {
  const range: DateRange = {};
  for (const chip of splitQuery(query).chips) {
    if (chip.negated || (chip.operator !== "after" && chip.operator !== "before")) continue;
    range[chip.operator] = parseDay(chip.value);
  }
  return range;
}

/** Replace the query's `after:`/`before:` filters with the given days (none for undefined). */
export function setDateRange(query: string, range: DateRange): string {
  let next = removeChips(
    query,
    (chip) => !chip.negated && (chip.operator === "after" || chip.operator === "before"),
  );
  if (range.after) next = addTerm(next, `after:${dayTerm(range.after)}`);
  if (range.before) next = addTerm(next, `before:${dayTerm(range.before)}`);
  return next;
}

// --- typing -------------------------------------------------------------------------------------

export interface WordSpan {
  start: number;
  end: number;
  word: string;
}

/** The whitespace-separated word the caret is in (or just after). */
export function wordAt(text: string, caret: number): WordSpan {
  const at = Math.max(0, Math.min(caret, text.length));
  let start = at;
  while (start > 0 && !isSpace(text[start - 1] as string)) start -= 1;
  let end = at;
  while (end < text.length && !isSpace(text[end] as string)) end += 1;
  return { start, end, word: text.slice(start, end) };
}

/** Put `replacement` in place of the word at the caret; returns the text and the new caret. */
export function replaceWord(
  text: string,
  caret: number,
  replacement: string,
  { space }: { space: boolean },
): { text: string; caret: number } {
  const { start, end } = wordAt(text, caret);
  const tail = text.slice(end);
  const gap = space && !/^\s/.test(tail) ? " " : "";
  const next = text.slice(0, start) + replacement + gap + tail;
  return { text: next, caret: start + replacement.length + (space ? 1 : 0) };
}

export interface Completion {
  /** What replaces the word being typed, e.g. `has:attachment` or `from:`. */
  text: string;
  /** What it does, in words. */
  label: string;
  /** An operator that still needs a value typed after the colon. */
  needsValue: boolean;
}

const COMPLETIONS: readonly Completion[] = [
  { text: "from:", label: "From a person", needsValue: true },
  { text: "to:", label: "To a person", needsValue: true },
  { text: "cc:", label: "Copied to a person", needsValue: true },
  { text: "bcc:", label: "Blind-copied to a person", needsValue: true },
  { text: "subject:", label: "Words in the subject", needsValue: true },
  { text: "filename:", label: "Attachment name", needsValue: true },
  { text: "has:attachment", label: "Has attachment", needsValue: false },
  { text: "is:unread", label: "Unread", needsValue: false },
  { text: "is:read", label: "Read", needsValue: false },
  { text: "is:starred", label: "Starred", needsValue: false },
  { text: "is:unstarred", label: "Not starred", needsValue: false },
  { text: "in:inbox", label: "In the inbox", needsValue: false },
  { text: "in:sent", label: "In sent mail", needsValue: false },
  { text: "in:drafts", label: "In drafts", needsValue: false },
  { text: "in:archive", label: "In the archive", needsValue: false },
  { text: "in:spam", label: "In spam", needsValue: false },
  { text: "in:trash", label: "In the trash", needsValue: false },
  { text: "in:anywhere", label: "Anywhere, spam and trash too", needsValue: false },
  { text: "label:", label: "In a folder or label", needsValue: true },
  { text: "after:", label: "On or after a day, like after:2024/01/31", needsValue: true },
  { text: "before:", label: "Before a day, like before:2024/01/31", needsValue: true },
  { text: "newer_than:", label: "Newer than, like newer_than:7d", needsValue: true },
  { text: "older_than:", label: "Older than, like older_than:1y", needsValue: true },
  { text: "larger:", label: "Larger than, like larger:10M", needsValue: true },
  { text: "smaller:", label: "Smaller than, like smaller:1M", needsValue: true },
];

const MAX_COMPLETIONS = 8;

/**
 * Operators the word being typed could become: `ha` → `has:attachment`, `is:` → the `is:`
 * values, `-fr` → `-from:`. Two letters at least, so ordinary words rarely trigger them.
 */
export function completeOperator(word: string): Completion[] {
  const negated = word.startsWith("-");
  const typed = (negated ? word.slice(1) : word).toLowerCase();
  if (typed.length < 2) return [];
  const prefix = negated ? "-" : "";
  return COMPLETIONS.filter(
    (completion) => completion.text.startsWith(typed) && completion.text !== typed,
  )
    .slice(0, MAX_COMPLETIONS)
    .map((completion) => ({ ...completion, text: prefix + completion.text }));
}

export type PersonField = "from" | "to" | "cc" | "bcc";

/**
 * Whether the word being typed asks for a person: `from:an` (field from, text "an") or a plain
 * word (field from, the word). Undefined for operators, phrases and negations.
 */
export function personQuery(word: string): { field: PersonField; text: string } | undefined {
  if (word === "" || word.includes('"') || word.startsWith("-") || /[()|]/.test(word)) return undefined;
  const operator = /^(from|to|cc|bcc):(.*)$/i.exec(word);
  if (operator) {
    return { field: (operator[1] as string).toLowerCase() as PersonField, text: operator[2] as string };
  }
  return word.includes(":") ? undefined : { field: "from", text: word };
}
