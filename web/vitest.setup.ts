import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach, vi } from "vitest";

import { authStore } from "@/auth/store";

// findBy*/waitFor give up after 1 s by default: with one worker per core on a 2-core CI machine a
// render can take longer than that, and waiting longer costs nothing when the page is right.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  authStore.reset();
});
