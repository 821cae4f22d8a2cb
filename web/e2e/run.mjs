#!/usr/bin/env node
// End-to-end checks of the exported web app in a real browser (Debian's
// chromium driven by playwright-core; no browser download).
//
//   POSTWISE_E2E_URL=http://host:port node e2e/run.mjs   test a running server
//   node e2e/run.mjs                                     start `postwise serve`
//
// Env: POSTWISE_BIN (default ../.venv/bin/postwise), CHROMIUM_PATH (default
// /usr/bin/chromium). Screenshots go to e2e/artifacts/. The last line is
// "<n> passed, <m> failed"; the exit status is non-zero on any failure.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const artifactsDir = path.join(webDir, "e2e", "artifacts");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const NAV_ENTRIES = ["Inbox", "Starred", "Sent", "Drafts", "Archive", "Settings"];
const SERVER_START_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------- server --

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function startServer() {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "postwise-e2e-"));
  const command = "exec ${POSTWISE_BIN:-../.venv/bin/postwise} serve";
  const child = spawn("sh", ["-c", command], {
    cwd: webDir,
    // Own process group, so stopping it also stops anything it spawned.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      POSTWISE_ENV: "dev",
      POSTWISE_DATA_DIR: dataDir,
      POSTWISE_HOST: "127.0.0.1",
      POSTWISE_PORT: String(port),
    },
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  let exited = null;
  child.on("exit", (code, signal) => (exited = signal ?? `status ${code}`));

  const server = {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (exited === null) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
        for (let i = 0; i < 50 && exited === null; i += 1) await sleep(100);
        if (exited === null) process.kill(-child.pid, "SIGKILL");
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      await server.stop();
      throw new Error(`\`${command}\` exited (${exited}) before serving:\n${output}`);
    }
    try {
      const response = await fetch(`${server.url}/healthz`);
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await server.stop();
  throw new Error(
    `server did not answer GET /healthz with 200 within ${SERVER_START_TIMEOUT_MS / 1000}s:\n${output}`,
  );
}

// ---------------------------------------------------------------- checks --

const results = [];

async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name}\n      ${String(error?.message ?? error).split("\n").join("\n      ")}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function expectVisible(locator, what) {
  try {
    await locator.waitFor({ state: "visible" });
  } catch {
    throw new Error(`${what} is not visible`);
  }
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

/** Page errors and console errors (CSP violations are reported there). */
function watchErrors(page, errors) {
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${page.url()}: ${message.text()}`);
  });
}

async function runChecks(baseUrl, browser) {
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  watchErrors(page, errors);

  await check("shell renders the top bar and navigation at /", async () => {
    await page.goto(`${baseUrl}/`);
    await expectVisible(page.getByRole("banner").getByText("Postwise", { exact: true }), "top bar title");
    const nav = page.getByRole("navigation", { name: "Folders" });
    await expectVisible(nav, "folder navigation");
    const labels = (await nav.getByRole("link").allTextContents()).map((text) => text.trim());
    assert(
      JSON.stringify(labels) === JSON.stringify(NAV_ENTRIES),
      `navigation entries are ${JSON.stringify(labels)}, expected ${JSON.stringify(NAV_ENTRIES)}`,
    );
    await expectVisible(page.getByRole("heading", { name: "Inbox" }), "inbox heading");
  });

  await check("health chip reports the API as ok", async () => {
    const chip = page.getByTestId("health-chip");
    try {
      await page.waitForFunction(
        () => document.querySelector('[data-testid="health-chip"]')?.textContent === "API ok",
      );
    } catch {
      throw new Error(`health chip says ${JSON.stringify(await chip.textContent())}, expected "API ok"`);
    }
    await screenshot(page, "inbox");
  });

  await check("deep link /signin/ renders the sign-in card after a reload", async () => {
    await page.goto(`${baseUrl}/signin/`);
    await page.reload();
    assert(new URL(page.url()).pathname === "/signin/", `landed on ${page.url()}`);
    await expectVisible(page.getByRole("heading", { name: "Postwise" }), "product name");
    await expectVisible(page.getByLabel("Email"), "email field");
    await expectVisible(page.getByLabel("Password"), "password field");
    const button = page.getByRole("button", { name: "Sign in" });
    await expectVisible(button, "sign-in button");
    assert(await button.isDisabled(), "the sign-in button is enabled");
    await screenshot(page, "signin");
  });

  await check("mobile menu opens the drawer and navigates to Starred", async () => {
    const mobile = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const phone = await mobile.newPage();
      phone.setDefaultTimeout(15_000);
      watchErrors(phone, errors);
      await phone.goto(`${baseUrl}/`);
      assert(
        !(await phone.getByRole("navigation", { name: "Folders" }).isVisible()),
        "navigation is visible on a phone before opening the menu",
      );
      await phone.getByRole("button", { name: "Open navigation" }).click();
      const drawer = phone.locator("#mobile-navigation");
      await expectVisible(drawer, "mobile drawer");
      await screenshot(phone, "mobile-drawer");
      await drawer.getByRole("link", { name: "Starred" }).click();
      await phone.waitForURL((url) => url.pathname === "/starred/");
      await expectVisible(phone.getByRole("heading", { name: "Starred" }), "starred heading");
      await drawer.waitFor({ state: "detached" });
    } finally {
      await mobile.close();
    }
  });

  await check("unknown deep link shows the not-found page", async () => {
    const response = await page.goto(`${baseUrl}/no-such-page/`);
    assert(response?.status() === 404, `status is ${response?.status()}, expected 404`);
    await expectVisible(page.getByRole("heading", { name: "Page not found" }), "not-found heading");
  });

  await check("no script errors or CSP violations", async () => {
    // The unknown-route check above triggers the browser's own 404 log line.
    const real = errors.filter((text) => !/status of 404/.test(text));
    const shown = real.slice(0, 10);
    if (real.length > shown.length) shown.push(`… and ${real.length - shown.length} more`);
    assert(real.length === 0, shown.join("\n"));
  });

  await context.close();
}

// ------------------------------------------------------------------ main --

let server = null;
let browser = null;
let fatal = null;
const stopServer = async () => {
  if (server) await server.stop();
  server = null;
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    void stopServer().finally(() => process.exit(130));
  });
}

try {
  await mkdir(artifactsDir, { recursive: true });
  let baseUrl = process.env.POSTWISE_E2E_URL?.replace(/\/+$/, "");
  if (baseUrl) {
    console.log(`testing ${baseUrl}`);
  } else {
    server = await startServer();
    baseUrl = server.url;
    console.log(`started postwise serve at ${baseUrl}`);
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  await runChecks(baseUrl, browser);
} catch (error) {
  fatal = error;
} finally {
  await browser?.close();
  const failed = results.some((result) => !result.ok);
  if ((failed || fatal) && server) {
    console.log(`\n--- server output ---\n${server.output()}--- end of server output ---`);
  }
  await stopServer();
}

if (fatal) console.error(`e2e: ${fatal.message}`);
const passed = results.filter((result) => result.ok).length;
const failedCount = results.length - passed;
console.log(`\n${passed} passed, ${failedCount} failed`);
process.exit(fatal || failedCount > 0 ? 1 : 0);
