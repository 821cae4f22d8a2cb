import { useSyncExternalStore } from "react";
import { vi } from "vitest";

/**
 * A stand-in for next/navigation in tests of the mail view: the address is a small store the
 * fake router changes, so opening a thread or a folder re-renders like the real thing.
 * Use with: vi.mock("next/navigation", async () => (await import("./fakeNavigation")).navigationModule)
 */
let url = new URL("http://localhost/");
const listeners = new Set<() => void>();

export function setUrl(href: string): void {
  url = new URL(href, "http://localhost");
  for (const listener of listeners) listener();
}

export function currentUrl(): URL {
  return url;
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const searchSnapshot = () => url.search;

export const fakeRouter = {
  push: vi.fn((href: string) => setUrl(href)),
  replace: vi.fn((href: string) => setUrl(href)),
  back: vi.fn(),
  forward: vi.fn(),
  refresh: vi.fn(),
  prefetch: vi.fn(),
};

export const navigationModule = {
  useRouter: () => fakeRouter,
  usePathname: () => useSyncExternalStore(subscribe, () => url.pathname),
  useSearchParams: () => new URLSearchParams(useSyncExternalStore(subscribe, searchSnapshot)),
};
