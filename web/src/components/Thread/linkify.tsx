import Link from "@mui/material/Link";
import type { ReactNode } from "react";

// Web addresses (with a scheme or starting "www.") and bare email addresses in plain text.
const LINK_RE =
  /\b(?:https?:\/\/|www\.)[^\s<>"'`]+|\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
const TRAILING = /[.,;:!?'"*]+$/;

export interface TextPart {
  text: string;
  /** Set for links: an http(s) or mailto address, checked by the URL parser. */
  href?: string;
}

const OPENERS: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** Punctuation after an address ends the sentence; a closing bracket too, unless the address opened one. */
function trimEnd(candidate: string): string {
  let text = candidate;
  for (;;) {
    text = text.replace(TRAILING, "");
    const last = text.at(-1);
    const opener = last === undefined ? undefined : OPENERS[last];
    if (last === undefined || opener === undefined || count(text, opener) >= count(text, last)) return text;
    text = text.slice(0, -1);
  }
}

function hrefFor(text: string): string | undefined {
  const raw = text.includes("@") && !/^(?:https?:\/\/|www\.)/i.test(text)
    ? `mailto:${text}`
    : /^www\./i.test(text)
      ? `https://${text}`
      : text;
  try {
    const url = new URL(raw);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Split plain text into runs of text and links. */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK_RE)) {
    const start = match.index;
    const candidate = trimEnd(match[0]);
    const href = candidate ? hrefFor(candidate) : undefined;
    if (href === undefined) continue;
    if (start > last) parts.push({ text: text.slice(last, start) });
    parts.push({ text: candidate, href });
    last = start + candidate.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** Plain text with its web and email addresses clickable; links open outside the app. */
export function Linkified({ text }: { text: string }): ReactNode {
  return splitLinks(text).map((part, index) =>
    part.href === undefined ? (
      part.text
    ) : (
      <Link key={index} href={part.href} target="_blank" rel="noopener noreferrer" sx={{ overflowWrap: "anywhere" }}>
        {part.text}
      </Link>
    ),
  );
}
