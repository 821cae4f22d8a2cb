"use client";

import { useEffect, useRef } from "react";

/** Gmail's keys, because people already know them. */
export type ShortcutAction =
  | "next"
  | "previous"
  | "open"
  | "back"
  | "archive"
  | "trash"
  | "spam"
  | "star"
  | "markRead"
  | "markUnread"
  | "toggleSelect"
  | "selectAll"
  | "selectNone"
  | "search"
  | "goInbox"
  | "goStarred"
  | "goDrafts"
  | "compose"
  | "reply"
  | "replyAll"
  | "forward"
  | "help";

export interface Shortcut {
  /** The keys as the sheet shows them; a space separates keys pressed one after the other. */
  keys: string[];
  action: ShortcutAction;
  label: string;
  group: "Move around" | "Act on conversations" | "Write" | "Select" | "Go to";
}

/** Keys listed in the sheet that the composer handles itself (not page shortcuts). */
export interface ComposerKey {
  keys: string[];
  label: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ["j"], action: "next", label: "Next (older) conversation", group: "Move around" },
  { keys: ["k"], action: "previous", label: "Previous (newer) conversation", group: "Move around" },
  { keys: ["o", "Enter"], action: "open", label: "Open conversation", group: "Move around" },
  { keys: ["u"], action: "back", label: "Back to the list", group: "Move around" },
  { keys: ["/"], action: "search", label: "Search mail", group: "Move around" },
  { keys: ["?"], action: "help", label: "Show keyboard shortcuts", group: "Move around" },
  { keys: ["e"], action: "archive", label: "Archive", group: "Act on conversations" },
  { keys: ["#"], action: "trash", label: "Move to Trash", group: "Act on conversations" },
  { keys: ["!"], action: "spam", label: "Report spam", group: "Act on conversations" },
  { keys: ["s"], action: "star", label: "Star or unstar", group: "Act on conversations" },
  { keys: ["Shift+i"], action: "markRead", label: "Mark as read", group: "Act on conversations" },
  { keys: ["Shift+u"], action: "markUnread", label: "Mark as unread", group: "Act on conversations" },
  { keys: ["c"], action: "compose", label: "New message", group: "Write" },
  { keys: ["r"], action: "reply", label: "Reply", group: "Write" },
  { keys: ["a"], action: "replyAll", label: "Reply all", group: "Write" },
  { keys: ["f"], action: "forward", label: "Forward", group: "Write" },
  { keys: ["x"], action: "toggleSelect", label: "Select conversation", group: "Select" },
  { keys: ["* a"], action: "selectAll", label: "Select all", group: "Select" },
  { keys: ["* n"], action: "selectNone", label: "Select none", group: "Select" },
  { keys: ["g i"], action: "goInbox", label: "Go to Inbox", group: "Go to" },
  { keys: ["g s"], action: "goStarred", label: "Go to Starred", group: "Go to" },
  { keys: ["g d"], action: "goDrafts", label: "Go to Drafts", group: "Go to" },
];

/** Inside a compose window. */
export const COMPOSER_KEYS: readonly ComposerKey[] = [
  { keys: ["Ctrl+Enter", "⌘+Enter"], label: "Send" },
  { keys: ["Esc"], label: "Save and close the window" },
];

const SINGLE: Record<string, ShortcutAction> = {
  j: "next",
  k: "previous",
  o: "open",
  Enter: "open",
  u: "back",
  e: "archive",
  "#": "trash",
  "!": "spam",
  s: "star",
  I: "markRead",
  U: "markUnread",
  x: "toggleSelect",
  c: "compose",
  r: "reply",
  a: "replyAll",
  f: "forward",
  "/": "search",
  "?": "help",
};
const SEQUENCES: Record<string, Record<string, ShortcutAction>> = {
  g: { i: "goInbox", s: "goStarred", d: "goDrafts" },
  "*": { a: "selectAll", n: "selectNone" },
};
/** How long the second key of a sequence may wait. */
export const SEQUENCE_TIMEOUT_MS = 1500;

const TEXT_INPUT_TYPES = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]);

/** True when the key belongs to what the user is typing or to an open menu or dialog. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLInputElement) return !TEXT_INPUT_TYPES.has(target.type);
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return (
    target.closest(
      '[contenteditable="true"], [role="dialog"], [role="menu"], [role="listbox"], [role="combobox"], [data-compose-window]',
    ) !== null
  );
}

/** Enter belongs to buttons and links when one has focus; the shortcut is for the list itself. */
function enterIsFree(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return true;
  return target.closest('a, button, input, select, textarea, [role="button"], [role="link"], [role="checkbox"], [role="menuitem"], [role="tab"]') === null;
}

/**
 * Which action a key press means, given the first key of a sequence if one is pending.
 * Returns the action (or null) and the pending key for the next press.
 */
export function resolveKey(
  event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "target" | "isComposing">,
  pending: string | null,
): { action: ShortcutAction | null; pending: string | null } {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return { action: null, pending: null };
  if (isTypingTarget(event.target)) return { action: null, pending: null };
  if (pending !== null) {
    const action = SEQUENCES[pending]?.[event.key.toLowerCase()] ?? null;
    if (action !== null) return { action, pending: null };
  }
  if (SEQUENCES[event.key]) return { action: null, pending: event.key };
  const action = SINGLE[event.key] ?? null;
  if (action === "open" && event.key === "Enter" && !enterIsFree(event.target)) return { action: null, pending: null };
  return { action, pending: null };
}

/** Listen for the mail shortcuts on the whole page while mounted. */
export function useMailShortcuts(onAction: (action: ShortcutAction) => void, enabled = true): void {
  const handler = useRef(onAction);
  useEffect(() => {
    handler.current = onAction;
  });
  useEffect(() => {
    if (!enabled) return;
    let pending: string | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const result = resolveKey(event, pending);
      pending = result.pending;
      clearTimeout(timer);
      if (pending !== null) {
        timer = setTimeout(() => {
          pending = null;
        }, SEQUENCE_TIMEOUT_MS);
      }
      if (result.action === null) return;
      // The key did something: keep "/" out of the search field, space/Enter from scrolling.
      event.preventDefault();
      handler.current(result.action);
    };
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("keydown", onKeyDown);
      clearTimeout(timer);
    };
  }, [enabled]);
}
