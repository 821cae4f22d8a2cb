"use client";

import { useEffect, useState } from "react";

/**
 * True once `open` has been true: a lazily loaded menu or dialog is mounted the first time it
 * opens and stays mounted, so its closing transition and later openings behave as before.
 */
export function useOpenedOnce(open: boolean): boolean {
  const [opened, setOpened] = useState(open);
  if (open && !opened) setOpened(true);
  return opened || open;
}

type IdleWindow = Window & {
  requestIdleCallback?: (callback: () => void, options?: { timeout: number }) => number;
  cancelIdleCallback?: (handle: number) => void;
};

/** Runs `task` when the browser is idle (or soon, where it has no idle callbacks); returns a cancel. */
export function onIdle(task: () => void, timeout = 2000): () => void {
  const idle = window as IdleWindow;
  if (idle.requestIdleCallback && idle.cancelIdleCallback) {
    const handle = idle.requestIdleCallback(task, { timeout });
    return () => idle.cancelIdleCallback?.(handle);
  }
  const handle = window.setTimeout(task, 200);
  return () => window.clearTimeout(handle);
}

/** Loads the chunks behind lazy components once the first paint is done, so they open at once. */
export function usePreloadOnIdle(preload: () => Promise<unknown>): void {
  useEffect(() => onIdle(() => void preload().catch(() => undefined)), [preload]);
}
