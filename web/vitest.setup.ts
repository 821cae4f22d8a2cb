import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

import { authStore } from "@/auth/store";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  authStore.reset();
});
