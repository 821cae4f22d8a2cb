// The browser half of `python -m bench.web`: drives Debian's chromium (playwright-core from
// web/node_modules, no browser download) against a running `postwise serve` and prints one JSON
// line of raw figures. Usage: node bench/web/measure.mjs '<json options>'
//   {"url", "email", "password", "task": "open" | "scroll", "opens": 20, "scrollSeconds": 10}
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "web", "package.json"));
const { chromium } = require("playwright-core");

const ROW = "[data-thread-id]";
const MESSAGE = "article[data-message-id]";
const LIST = "[data-shortcut-scope]";
const options = JSON.parse(process.argv[2]);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
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

/** A signed-in tab: the login sets the refresh cookie in the context, as the form would. */
async function signedInPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const login = await context.request.post(`${options.url}/api/auth/login`, {
    data: { email: options.email, password: options.password },
  });
  if (!login.ok()) throw new Error(`login answered ${login.status()}`);
  const page = await context.newPage();
  // Long tasks and the moment the first row is in the DOM, recorded by the page itself so
  // that the figures do not include the DevTools protocol's round trips.
  await page.addInitScript((rowSelector) => {
    window.__bench = { longTasks: [], firstRowAt: null };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__bench.longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: true });
    const watch = new MutationObserver(() => {
      if (window.__bench.firstRowAt === null && document.querySelector(rowSelector)) {
        window.__bench.firstRowAt = performance.now();
        watch.disconnect();
      }
    });
    document.addEventListener("DOMContentLoaded", () =>
      watch.observe(document.body, { childList: true, subtree: true }),
    );
  }, ROW);
  return page;
}

async function firstRows(page) {
  await page.goto(`${options.url}/`);
  await page.waitForSelector(ROW, { timeout: 30_000 });
  return page.evaluate(() => window.__bench.firstRowAt);
}

async function openTask() {
  // A warm-up navigation fills the HTTP cache as a returning user's would have it; the second
  // is the figure (a first visit is reported too).
  const page = await signedInPage();
  const coldMs = await firstRows(page);
  const warmMs = await firstRows(page);
  const opens = [];
  const rows = page.locator(ROW);
  for (let index = 0; index < options.opens; index += 1) {
    const row = rows.nth(index % 15);
    await row.scrollIntoViewIfNeeded();
    // The time from the click to the first message card, measured inside the page.
    const elapsed = await row.evaluate(
      (element, selector) =>
        new Promise((resolve) => {
          const started = performance.now();
          const done = () => {
            if (!document.querySelector(selector)) return false;
            observer.disconnect();
            resolve(performance.now() - started);
            return true;
          };
          const observer = new MutationObserver(done);
          observer.observe(document.body, { childList: true, subtree: true });
          element.querySelector("a")?.click();
        }),
      MESSAGE,
    );
    opens.push(elapsed);
    await page.keyboard.press("u");
    await page.waitForSelector(MESSAGE, { state: "detached", timeout: 10_000 });
  }
  return { coldMs, warmMs, opens };
}

async function scrollTask() {
  const page = await signedInPage();
  await firstRows(page);
  let pages = 0;
  page.on("response", (response) => {
    if (new URL(response.url()).pathname === "/api/threads") pages += 1;
  });
  await page.locator(LIST).hover();
  await page.evaluate(() => (window.__bench.longTasks = []));
  const deadline = Date.now() + options.scrollSeconds * 1000;
  let wheels = 0;
  while (Date.now() < deadline) {
    await page.mouse.wheel(0, 1200);
    wheels += 1;
    await page.waitForTimeout(16);
  }
  const longTasks = await page.evaluate(() => window.__bench.longTasks);
  // Pages of 50 fetched while scrolling, plus the first one.
  return { wheels, rowsLoaded: (pages + 1) * 50, longTasks };
}

try {
  const result = options.task === "scroll" ? await scrollTask() : await openTask();
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
