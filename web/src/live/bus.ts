import type { LiveEvent } from "./socket";

/**
 * Every live event, for parts of the app that act on one beyond the cache (the composer tells
 * the user when a message could not be sent). LiveUpdates owns the one socket of the tab and
 * passes each event here after the cache has seen it.
 */

type Listener = (event: LiveEvent) => void;

const listeners = new Set<Listener>();

/** Listen to every event; returns the function that stops listening. */
export function onLiveEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function emitLiveEvent(event: LiveEvent): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch {
      // One listener's failure must not keep the event from the others.
    }
  }
}
