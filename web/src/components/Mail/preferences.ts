"use client";

import { useColorScheme } from "@mui/material/styles";
import { useCallback, useSyncExternalStore } from "react";

import type { InboxSection } from "@/api/keys";

/**
 * The mail view's appearance choices, kept in localStorage (they describe this browser, not the
 * account) and shared by every component through one small store, so a change on the settings
 * page shows at once in the list and in other tabs.
 */

export type Density = "comfortable" | "compact";
export type ReadingPane = "beside" | "full";
export type ThemeMode = "system" | "light" | "dark";

export interface MailPreferences {
  density: Density;
  /** The open thread beside the list, or in its place. */
  readingPane: ReadingPane;
  /** Width of the thread list when the reading pane is beside it, in pixels. */
  listWidth: number;
  /** The inbox split into the assistant's Important and Everything else sections. */
  splitInbox: boolean;
  /** The section the split inbox shows. */
  inboxSection: InboxSection;
}

export const DEFAULT_PREFERENCES: MailPreferences = {
  density: "comfortable",
  readingPane: "beside",
  listWidth: 480,
  splitInbox: false,
  inboxSection: "important",
};
export const LIST_WIDTH_MIN = 320;
export const LIST_WIDTH_MAX = 900;

const STORAGE_KEY = "postwise.mail.preferences";
const listeners = new Set<() => void>();
let cached: MailPreferences | undefined;

function clampWidth(width: unknown): number {
  const number = typeof width === "number" && Number.isFinite(width) ? width : DEFAULT_PREFERENCES.listWidth;
  return Math.round(Math.min(LIST_WIDTH_MAX, Math.max(LIST_WIDTH_MIN, number)));
}

/** Whatever is stored, made valid: unknown values fall back to the defaults. */
export function parsePreferences(raw: string | null): MailPreferences {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (typeof parsed === "object" && parsed !== null) stored = parsed as Record<string, unknown>;
  } catch {
    // A hand-edited or corrupt value: start from the defaults.
  }
  return {
    density: stored.density === "compact" ? "compact" : "comfortable",
    readingPane: stored.readingPane === "full" ? "full" : "beside",
    listWidth: clampWidth(stored.listWidth),
    splitInbox: stored.splitInbox === true,
    inboxSection: stored.inboxSection === "other" ? "other" : "important",
  };
}

function read(): MailPreferences {
  if (cached === undefined) {
    let raw: string | null = null;
    try {
      raw = window.localStorage.getItem(STORAGE_KEY);
    } catch {
      // Storage can be off (private mode, policies): the defaults still work.
    }
    cached = parsePreferences(raw);
  }
  return cached;
}

function notify() {
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key !== STORAGE_KEY) return;
    cached = undefined;
    notify();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

export function setMailPreferences(change: Partial<MailPreferences>): void {
  const next = parsePreferences(JSON.stringify({ ...read(), ...change }));
  cached = next;
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  } catch {
    // Not remembered, but still applied for this tab.
  }
  notify();
}

/** For tests: forget the in-memory copy so the next read goes to storage. */
export function resetMailPreferencesCache(): void {
  cached = undefined;
}

export function useMailPreferences(): [MailPreferences, (change: Partial<MailPreferences>) => void] {
  const preferences = useSyncExternalStore(subscribe, read, () => DEFAULT_PREFERENCES);
  return [preferences, setMailPreferences];
}

/** List row heights in pixels: one line on wide screens, two on phones. */
export function rowHeight(density: Density, narrow: boolean): number {
  if (narrow) return density === "compact" ? 52 : 64;
  return density === "compact" ? 40 : 56;
}

/**
 * The colour scheme: MUI keeps the choice (localStorage `mui-mode`) and applies it, provided the
 * theme switches schemes by a class or data attribute rather than by the media query alone.
 */
export function useThemeMode(): { mode: ThemeMode; setMode: (mode: ThemeMode) => void } {
  const { mode, setMode } = useColorScheme();
  const set = useCallback((next: ThemeMode) => setMode(next), [setMode]);
  return { mode: mode ?? "system", setMode: set };
}
