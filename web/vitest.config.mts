import react from "@vitejs/plugin-react";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { globSync } from "tinyglobby";
import { defineConfig } from "vitest/config";

const TESTS = "src/**/*.test.{ts,tsx}";

// A file that replaces a module with `vi.mock` needs a module registry of its own: in a shared
// one, a file that imported the real module earlier in the same worker would win. The others
// share their worker's environment and modules (`isolate: false`), which halves the suite's
// CPU: the DOM and the MUI imports are set up once per worker instead of once per file. The
// setup file resets what tests change globally (the DOM, stubbed globals, the auth store).
const root = fileURLToPath(new URL(".", import.meta.url));
const mocking = globSync(TESTS, { cwd: root }).filter((file) =>
  /\bvi\.(do)?[mM]ock\(/.test(readFileSync(`${root}/${file}`, "utf8")),
);

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  test: {
    // happy-dom rather than jsdom: the suite ran in 52-54 s instead of 77 s on two cores (its
    // environment set-up 30 s instead of 79 s of the files' summed time), every test the same.
    // It applies media queries to computed styles, so a test of the phone layout sets a
    // phone's viewport (AppShell.test.tsx).
    environment: "happy-dom",
    setupFiles: ["./vitest.setup.ts"],
    css: false,
    // Vitest leaves a core to its main process by default (one worker on a 2-core machine),
    // which mostly waits while the workers run the files.
    maxWorkers: availableParallelism(),
    // `make test` runs Vitest at a low priority beside the Python suite, where a test of a
    // whole sign-in flow once took more than the default 5 s; a hang still fails, later.
    testTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "isolated", include: mocking } },
      { extends: true, test: { name: "shared", include: [TESTS], exclude: mocking, isolate: false } },
    ],
  },
});
