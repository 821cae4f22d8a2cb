#!/usr/bin/env node
// End-to-end checks of the exported web app in a real browser (Debian's
// chromium driven by playwright-core; no browser download).
//
//   POSTWISE_E2E_URL=http://host:port node e2e/run.mjs   test a running server
//   node e2e/run.mjs                                     start `postwise serve`
//
// Without POSTWISE_E2E_URL it starts a real SMTP server (aiosmtpd writing a
// Maildir) and `postwise serve` on an empty data dir pointed at it, then runs
// the account flow: sign up, confirm the address from the mail, sign in, turn
// on TOTP, sign in with a code, revoke a second (API) session. A running
// server must be a fresh dev instance; its mail is read from /api/dev/outbox.
//
// Env: POSTWISE_BIN (default ../.venv/bin/postwise), POSTWISE_PYTHON (default
// ../.venv/bin/python, for aiosmtpd), CHROMIUM_PATH (default
// /usr/bin/chromium). Screenshots go to e2e/artifacts/. The last line is
// "<n> passed, <m> failed"; the exit status is non-zero on any failure.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import {
  artifactsDir,
  assert,
  check,
  CHROMIUM_ARGS,
  expectVisible,
  isExpectedError,
  mailSource,
  results,
  screenshot,
  startServer,
  startSmtpSink,
  watchErrors,
} from "./lib.mjs";
import { runMailChecks } from "./mailflow.mjs";
import { totpGenerator } from "./totp.mjs";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const NAV_ENTRIES = ["Inbox", "Starred", "Sent", "Drafts", "Archive", "Dashboard", "Settings"];

const USER = {
  name: "Ada Lovelace",
  email: `ada-${Date.now()}@example.com`,
  password: "analytical engine punched cards 1843",
};

/** The password input (the show/hide toggle is labelled "Show password" too). */
const passwordInput = (page, name = "password") => page.locator(`input[name="${name}"]`);

/** Sign in through the form; `code` answers the two-factor step when asked. */
async function signInThroughForm(page, baseUrl, code, user = USER) {
  await page.goto(`${baseUrl}/signin/`);
  await page.getByLabel("Email").fill(user.email);
  await passwordInput(page).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (code) {
    const field = page.getByRole("textbox", { name: "Authentication code" });
    await expectVisible(field, "two-factor code field");
    await field.fill(await code());
    await page.getByRole("button", { name: "Verify" }).click();
  }
  await page.waitForURL((url) => url.pathname === "/");
  // A user without a mailbox is welcomed and led to add one.
  await expectVisible(page.getByRole("heading", { name: "Welcome to Postwise" }), "first-run welcome");
}

/** A new user through the sign-up form and the emailed link, then signed in (mail flow). */
async function signUpAndSignIn(page, baseUrl, mail) {
  const user = {
    name: "Grace Hopper",
    email: `grace-${Date.now()}@example.com`,
    password: "compiler nanoseconds cobol 1959",
  };
  await page.goto(`${baseUrl}/signup/`);
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await passwordInput(page).fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expectVisible(page.getByText("Check your inbox"), "check-your-inbox state");
  await page.goto(await mail.waitForLink(user.email, "/verify-email/?token="));
  await expectVisible(page.getByText("Your email address is confirmed."), "confirmation");
  await signInThroughForm(page, baseUrl, null, user);
  return user;
}

async function signOutThroughMenu(page) {
  await page.getByRole("button", { name: "Account menu" }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname === "/signin/");
}

/** A non-browser client (`X-Postwise-Client: api`): tokens in the body, no cookie. */
async function apiCall(baseUrl, method, route, { body, token } = {}) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      "X-Postwise-Client": "api",
      "User-Agent": "postwise-e2e-api/1",
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function runChecks(baseUrl, browser, mail) {
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  watchErrors(page, errors);
  let nextCode = null;
  let apiTokens = null;

  await check("signed-out visits are sent to sign-in, keeping the deep link", async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForURL((url) => url.pathname === "/signin/");
    await page.goto(`${baseUrl}/sent/`);
    await page.waitForURL((url) => url.pathname === "/signin/");
    const next = new URL(page.url()).searchParams.get("next");
    assert(next === "/sent/", `next is ${JSON.stringify(next)}, expected "/sent/"`);
  });

  await check("deep link /signin/ renders the sign-in card after a reload", async () => {
    await page.goto(`${baseUrl}/signin/`);
    await page.reload();
    assert(new URL(page.url()).pathname === "/signin/", `landed on ${page.url()}`);
    await expectVisible(page.getByRole("heading", { name: "Postwise" }), "product name");
    await expectVisible(page.getByLabel("Email"), "email field");
    await expectVisible(passwordInput(page), "password field");
    const button = page.getByRole("button", { name: "Sign in" });
    await expectVisible(button, "sign-in button");
    assert(await button.isDisabled(), "the sign-in button is enabled with empty fields");
    await expectVisible(page.getByRole("link", { name: "Create an account" }), "sign-up link");
    await screenshot(page, "signin");
  });

  await check("sign-up shows the live strength meter, then 'check your inbox'", async () => {
    await page.goto(`${baseUrl}/signup/`);
    await page.getByLabel("Name").fill(USER.name);
    await page.getByLabel("Email").fill(USER.email);
    await passwordInput(page).fill("password1");
    await expectVisible(page.getByText("Strength: Very weak"), "strength meter for a weak password");
    await passwordInput(page).fill(USER.password);
    const meter = page.getByRole("progressbar", { name: "Password strength" });
    await page.waitForFunction(
      () =>
        document.querySelector('[aria-label="Password strength"]')?.getAttribute("aria-valuetext") ===
        "Very strong",
    );
    assert((await meter.getAttribute("aria-valuenow")) === "100", "the meter is not full");
    await screenshot(page, "signup");
    await page.getByRole("button", { name: "Create account" }).click();
    await expectVisible(page.getByText("Check your inbox"), "check-your-inbox state");
  });

  let verifyLink = null;
  await check("the verification mail reaches the SMTP server", async () => {
    verifyLink = await mail.waitForLink(USER.email, "/verify-email/?token=");
    assert(verifyLink.startsWith(`${baseUrl}/verify-email/`), `link ${verifyLink} is not on ${baseUrl}`);
  });

  await check("the verification link confirms the address", async () => {
    assert(verifyLink, "no verification link");
    await page.goto(verifyLink);
    await expectVisible(page.getByText("Your email address is confirmed."), "confirmation");
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/signin/" && url.searchParams.get("verified") === "1");
    await expectVisible(page.getByText(/You can sign in now/), "verified banner");
  });

  await check("sign in with email and password", async () => {
    await signInThroughForm(page, baseUrl);
  });

  await check("shell renders the top bar and navigation at /", async () => {
    await page.goto(`${baseUrl}/`);
    await expectVisible(page.getByRole("banner").getByText("Postwise", { exact: true }), "top bar title");
    const nav = page.getByRole("navigation", { name: "Folders" });
    await expectVisible(nav, "folder navigation");
    await nav.getByRole("link", { name: /^Settings/ }).waitFor();
    const labels = (await nav.getByRole("link").allTextContents()).map((text) => text.replace(/\d+$/, "").trim());
    const missing = NAV_ENTRIES.filter((entry) => !labels.includes(entry));
    assert(missing.length === 0, `navigation lacks ${JSON.stringify(missing)}; it has ${JSON.stringify(labels)}`);
    await expectVisible(page.getByRole("link", { name: "Add a mailbox" }), "the first run's add-a-mailbox link");
  });

  await check("a healthy server shows no status chip", async () => {
    await page.waitForTimeout(1000);
    const chips = await page.getByTestId("health-chip").count();
    assert(chips === 0, "the header shows a health chip while everything works");
    await screenshot(page, "inbox");
  });

  await check("the user menu names the signed-in user", async () => {
    await page.getByRole("button", { name: "Account menu" }).click();
    await expectVisible(page.getByRole("menu").getByText(USER.name), "user name in the menu");
    await expectVisible(page.getByRole("menu").getByText(USER.email), "user email in the menu");
    await page.keyboard.press("Escape");
    await page.getByRole("menu").waitFor({ state: "hidden" });
  });

  await check("mobile menu opens the drawer and navigates to Starred", async () => {
    const mobile = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const phone = await mobile.newPage();
      phone.setDefaultTimeout(15_000);
      watchErrors(phone, errors);
      await signInThroughForm(phone, baseUrl);
      assert(
        !(await phone.getByRole("navigation", { name: "Folders" }).isVisible()),
        "navigation is visible on a phone before opening the menu",
      );
      await phone.getByRole("button", { name: "Open navigation" }).click();
      const drawer = phone.locator("#mobile-navigation");
      await expectVisible(drawer, "mobile drawer");
      await screenshot(phone, "mobile-drawer");
      await drawer.getByRole("link", { name: "Starred" }).click();
      await phone.waitForURL((url) => url.pathname === "/" && url.searchParams.get("q") === "is:starred");
      await expectVisible(phone.getByRole("heading", { name: "Welcome to Postwise" }), "first run (no mailbox yet)");
      await drawer.waitFor({ state: "detached" });
      await signOutThroughMenu(phone);
    } finally {
      await mobile.close();
    }
  });

  await check("unknown deep link shows the not-found page", async () => {
    const response = await page.goto(`${baseUrl}/no-such-page/`);
    assert(response?.status() === 404, `status is ${response?.status()}, expected 404`);
    await expectVisible(page.getByRole("heading", { name: "Page not found" }), "not-found heading");
  });

  await check("Settings → Security turns on TOTP and shows the recovery codes once", async () => {
    await page.goto(`${baseUrl}/`);
    await page.getByRole("navigation", { name: "Folders" }).getByRole("link", { name: "Settings" }).click();
    await page.getByRole("link", { name: /Security/ }).click();
    await page.waitForURL((url) => url.pathname === "/settings/security/");
    await page.getByRole("button", { name: "Set up authenticator app" }).click();
    const secretElement = page.getByTestId("totp-secret");
    await expectVisible(secretElement, "TOTP setup key");
    await expectVisible(page.getByRole("img", { name: /QR code/ }), "QR code");
    const secret = await secretElement.getAttribute("data-secret");
    assert(secret && /^[A-Z2-7]+=*$/.test(secret), `setup key ${JSON.stringify(secret)} is not base32`);
    nextCode = totpGenerator(secret);
    await screenshot(page, "totp-setup");
    await page.getByRole("textbox", { name: "Authentication code" }).fill(await nextCode());
    await page.getByRole("button", { name: "Turn on" }).click();
    const codes = page.getByTestId("recovery-codes").getByRole("listitem");
    await expectVisible(codes.first(), "recovery codes");
    const count = await codes.count();
    assert(count === 10, `${count} recovery codes, expected 10`);
    await screenshot(page, "recovery-codes");
    const done = page.getByRole("button", { name: "Done" });
    assert(await done.isDisabled(), "Done is enabled before confirming the codes are saved");
    await page.getByLabel("I have saved these codes").check();
    await done.click();
    await page.getByTestId("recovery-codes").waitFor({ state: "detached" });
    await expectVisible(page.getByRole("button", { name: "Turn off two-factor authentication" }), "MFA on");
  });

  await check("sign out, then sign in again with the TOTP code", async () => {
    assert(nextCode, "TOTP was not set up");
    await signOutThroughMenu(page);
    await signInThroughForm(page, baseUrl, nextCode);
  });

  await check("a reload restores the session from the refresh cookie", async () => {
    await page.goto(`${baseUrl}/settings/security/`);
    await page.reload();
    await expectVisible(page.getByRole("heading", { name: "Security", exact: true }), "security heading");
    assert(new URL(page.url()).pathname === "/settings/security/", `landed on ${page.url()}`);
  });

  await check("an API client signs in with password and TOTP (a second session)", async () => {
    assert(nextCode, "TOTP was not set up");
    const login = await apiCall(baseUrl, "POST", "/api/auth/login", {
      body: { email: USER.email, password: USER.password },
    });
    assert(login.status === 200 && login.body?.mfa_required === true, `login: ${JSON.stringify(login)}`);
    const mfa = await apiCall(baseUrl, "POST", "/api/auth/login/mfa", {
      body: { mfa_token: login.body.mfa_token, code: await nextCode() },
    });
    assert(mfa.status === 200 && mfa.body?.refresh_token, `login/mfa: ${JSON.stringify(mfa)}`);
    apiTokens = mfa.body;
  });

  await check("the sessions table revokes the other session", async () => {
    assert(apiTokens, "no API session");
    await page.reload();
    const rows = page.getByRole("list", { name: "Signed-in devices" }).getByTestId("session-row");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="session-row"]').length === 2);
    await expectVisible(rows.filter({ hasText: "This device" }), "'this device' chip");
    await screenshot(page, "security");
    await page.getByRole("button", { name: /^Sign out postwise-e2e-api/ }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="session-row"]').length === 1);
    assert((await rows.count()) === 1, "the revoked session is still listed");
    const me = await apiCall(baseUrl, "GET", "/api/users/me", { token: apiTokens.access_token });
    assert(me.status === 401, `the revoked session's access token still works (${me.status})`);
    const refresh = await apiCall(baseUrl, "POST", "/api/auth/refresh", {
      body: { refresh_token: apiTokens.refresh_token },
    });
    assert(refresh.status === 401, `the revoked session could refresh (${refresh.status})`);
  });

  await check("recent security activity lists the sign-ins and the TOTP change", async () => {
    await page.reload();
    const list = page.getByRole("list", { name: "Security events" });
    await expectVisible(list.getByText("Two-factor authentication turned on").first(), "mfa_enabled event");
    await expectVisible(list.getByText("Signed in", { exact: true }).first(), "login event");
  });

  await check("no script errors or CSP violations", async () => {
    const real = errors.filter((text) => !isExpectedError(text));
    const shown = real.slice(0, 10);
    if (real.length > shown.length) shown.push(`… and ${real.length - shown.length} more`);
    assert(real.length === 0, shown.join("\n"));
  });

  await context.close();
}

// ------------------------------------------------------------------ main --

let server = null;
let smtp = null;
let tmpDir = null;
let browser = null;
let fatal = null;
const stopAll = async () => {
  if (server) await server.stop();
  if (smtp) await smtp.stop();
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
  server = null;
  smtp = null;
  tmpDir = null;
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

try {
  await mkdir(artifactsDir, { recursive: true });
  let baseUrl = process.env.POSTWISE_E2E_URL?.replace(/\/+$/, "");
  let mail;
  if (baseUrl) {
    console.log(`testing ${baseUrl} (mail read from its dev outbox)`);
    mail = mailSource({ baseUrl });
  } else {
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "postwise-e2e-"));
    smtp = await startSmtpSink(tmpDir);
    server = await startServer(tmpDir, smtp);
    baseUrl = server.url;
    mail = mailSource({ maildir: smtp.maildir });
    console.log(`started postwise serve at ${baseUrl}, SMTP sink at 127.0.0.1:${smtp.port}`);
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: CHROMIUM_ARGS,
  });
  // POSTWISE_E2E_ONLY=mail skips the account flow (for working on the mail client).
  if (process.env.POSTWISE_E2E_ONLY !== "mail") await runChecks(baseUrl, browser, mail);
  const mailErrors = [];
  await runMailChecks({
    baseUrl,
    browser,
    errors: mailErrors,
    signUp: (page) => signUpAndSignIn(page, baseUrl, mail),
  });
  await check("mail: no script errors or CSP violations", async () => {
    const real = mailErrors.filter((text) => !isExpectedError(text));
    assert(real.length === 0, real.slice(0, 10).join("\n"));
  });
} catch (error) {
  fatal = error;
} finally {
  await browser?.close();
  const failed = results.some((result) => !result.ok);
  if ((failed || fatal) && server) {
    console.log(`\n--- server output ---\n${server.output()}--- end of server output ---`);
  }
  if ((failed || fatal) && smtp?.output()) {
    console.log(`\n--- SMTP sink output ---\n${smtp.output()}--- end of SMTP sink output ---`);
  }
  await stopAll();
}

if (fatal) console.error(`e2e: ${fatal.message}`);
const passed = results.filter((result) => result.ok).length;
const failedCount = results.length - passed;
console.log(`\n${passed} passed, ${failedCount} failed`);
process.exit(fatal || failedCount > 0 ? 1 : 0);
