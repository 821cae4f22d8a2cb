// Shared pieces of the browser checks: starting processes and servers, recording checks,
// assertions, screenshots and error watching. run.mjs (the account flow) and mailflow.mjs (the
// mail client with a real IMAP server) both use them.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { readMaildir } from "./mail.mjs";

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoDir = path.resolve(webDir, "..");
export const artifactsDir = path.join(webDir, "e2e", "artifacts");
export const SERVER_START_TIMEOUT_MS = 60_000;
const require = createRequire(path.join(webDir, "package.json"));
const AXE_PATH = require.resolve("axe-core/axe.min.js");
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// ---------------------------------------------------------------- server --

export async function freePort() {
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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Spawn `command` in its own process group; `stop()` ends the group. */
export function spawnGroup(command, env) {
  const child = spawn("sh", ["-c", command], {
    cwd: webDir,
    // Own process group, so stopping it also stops anything it spawned.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const state = { output: "", exited: null };
  child.stdout.on("data", (chunk) => (state.output += chunk));
  child.stderr.on("data", (chunk) => (state.output += chunk));
  child.on("exit", (code, signal) => (state.exited = signal ?? `status ${code}`));
  return {
    state,
    async stop() {
      if (state.exited !== null) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return; // already gone
      }
      for (let i = 0; i < 50 && state.exited === null; i += 1) await sleep(100);
      if (state.exited === null) process.kill(-child.pid, "SIGKILL");
    },
  };
}

export async function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A real SMTP server (aiosmtpd) storing every message in a Maildir. */
export async function startSmtpSink(tmpDir) {
  const port = await freePort();
  const maildir = path.join(tmpDir, "maildir");
  const command =
    `exec \${POSTWISE_PYTHON:-../.venv/bin/python} -m aiosmtpd -n -l 127.0.0.1:${port} ` +
    `-c aiosmtpd.handlers.Mailbox "${maildir}"`;
  const sink = spawnGroup(command, {});
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (sink.state.exited !== null) {
      throw new Error(`\`${command}\` exited (${sink.state.exited}):\n${sink.state.output}`);
    }
    if (await listening(port)) return { port, maildir, output: () => sink.state.output, stop: sink.stop };
    await sleep(100);
  }
  await sink.stop();
  throw new Error(`the SMTP sink did not listen on ${port}:\n${sink.state.output}`);
}

export async function startServer(tmpDir, smtp, extraEnv = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const command = "exec ${POSTWISE_BIN:-../.venv/bin/postwise} serve";
  const child = spawnGroup(command, {
    POSTWISE_ENV: "dev",
    POSTWISE_DATA_DIR: path.join(tmpDir, "data"),
    POSTWISE_HOST: "127.0.0.1",
    POSTWISE_PORT: String(port),
    POSTWISE_PUBLIC_URL: url,
    POSTWISE_SMTP_HOST: "127.0.0.1",
    POSTWISE_SMTP_PORT: String(smtp.port),
    POSTWISE_SMTP_SECURITY: "none",
    ...extraEnv,
  });
  const { state } = child;
  const server = { url, output: () => state.output, stop: child.stop };

  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (state.exited !== null) {
      await server.stop();
      throw new Error(`\`${command}\` exited (${state.exited}) before serving:\n${state.output}`);
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
    `server did not answer GET /healthz with 200 within ${SERVER_START_TIMEOUT_MS / 1000}s:\n${state.output}`,
  );
}

/**
 * Where sent mail can be read: the SMTP sink's Maildir, or — when testing a
 * running server (POSTWISE_E2E_URL) — its dev outbox.
 */
export function mailSource({ maildir, baseUrl }) {
  const list = maildir
    ? () => readMaildir(maildir)
    : async () => {
        const response = await fetch(`${baseUrl}/api/dev/outbox`);
        if (!response.ok) throw new Error(`GET /api/dev/outbox answered ${response.status}`);
        return (await response.json()).items.reverse();
      };
  return {
    /** The newest message to `to` with a link containing `linkPart`; returns that link. */
    async waitForLink(to, linkPart, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const messages = (await list()).filter((message) => message.to.includes(to));
        const link = messages
          .flatMap((message) => message.links)
          .reverse()
          .find((candidate) => candidate.includes(linkPart));
        if (link) return link;
        await sleep(250);
      }
      throw new Error(`no mail to ${to} with a link containing ${linkPart} within ${timeoutMs / 1000}s`);
    },
  };
}

// ---------------------------------------------------------------- checks --

export const results = [];

export async function check(name, body) {
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

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export async function expectVisible(locator, what) {
  try {
    await locator.waitFor({ state: "visible" });
  } catch (error) {
    throw new Error(`${what} is not visible (${String(error?.message ?? error).split("\n")[0]})`);
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

/** Page errors and console errors (CSP violations are reported there). */
export function watchErrors(page, errors) {
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // Failed loads name the resource in the location, not in the text.
    const resource = message.location()?.url ?? "";
    errors.push(`${page.url()}: ${message.text()}${resource ? ` [${resource}]` : ""}`);
  });
}

/** Expected error lines: a signed-out page's silent refresh (401), the not-found check (404). */
export function isExpectedError(text) {
  if (/status of 404/.test(text)) return true;
  // The add-mailbox form looks up servers as the address is typed; an unknown domain is a 422.
  if (/status of 422/.test(text) && /\/api\/accounts\/discover\]$/.test(text)) return true;
  return /status of 401/.test(text) && /\/api\/auth\/refresh\]$/.test(text);
}


/** Poll `predicate` until it returns something truthy (returned); fails with `what`. */
export async function waitFor(predicate, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await sleep(250);
  }
  throw new Error(`${what} within ${timeoutMs / 1000} s`);
}

/** Nothing on the page wider than the viewport (the phone layout's rule). */
export async function assertNoHorizontalOverflow(page, what) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert(scroll <= width, `${what} is ${scroll} px wide at a ${width} px viewport`);
}

/** axe-core in the page; serious and critical violations fail. */
export async function assertAccessible(page, what) {
  const source = await readFile(AXE_PATH, "utf8");
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.nodes
            .slice(0, 3)
            .map((n) => `${n.html.slice(0, 160)} — ${n.failureSummary?.replace(/\s+/g, " ")}`)
            .join(" | ")}`,
      );
  });
  assert(violations.length === 0, `${what}: ${violations.join("\n")}`);
}

/**
 * A separate API session (`X-Postwise-Client: api`), so the tab's refresh cookie is never
 * rotated behind its back. The returned call answers the status; `call.json` the status and body.
 */
export async function apiSession(baseUrl, user) {
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "X-Postwise-Client": "api", "Content-Type": "application/json" },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  assert(login.status === 200, `API login answered ${login.status}`);
  const { access_token: token } = await login.json();
  const json = async (method, route, body) => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        "X-Postwise-Client": "api",
        Authorization: `Bearer ${token}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const call = async (method, route, body) => (await json(method, route, body)).status;
  call.json = json;
  return call;
}
