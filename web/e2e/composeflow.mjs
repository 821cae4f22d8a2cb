// Compose and send (issue 14) in a real browser, inside the mail flow (mailflow.mjs): reply to a
// synced message with a file whose name is not ASCII, send, undo once, send again, and find the
// reply once at the SMTP server, once in the server's Sent folder and in the same thread in
// Postwise; then a new message with address autocomplete and bold text kept as a draft across a
// reload; the reply composer at phone width; axe on the open composers. Every check leaves a
// screenshot in e2e/artifacts/.
import {
  apiSession,
  assert,
  assertAccessible,
  assertNoHorizontalOverflow,
  check,
  expectVisible,
  screenshot,
  sleep,
  waitFor,
  watchErrors,
} from "./lib.mjs";

const ROW = "[data-thread-id]";
const MESSAGE = "article[data-message-id]";
const WINDOW = "[data-compose-window]";
const ORIGINAL = "Project kickoff notes";
const REPLY_SUBJECT = `Re: ${ORIGINAL}`;
const ATTACHMENT = "agenda-ä.txt";
const REPLY_TEXT = "Thanks Bo, the agenda for Monday is attached.";
// Short, so that waiting out the window after an undo keeps the test quick.
const UNDO_SECONDS = 5;

/** What the SMTP server next to the Dovecot received with the reply's subject. */
async function repliesAtSmtp(dovecot) {
  const { messages } = await dovecot.command("smtp");
  return messages.filter((message) => message.subject === REPLY_SUBJECT);
}

/** The compose window (inline under the thread, floating or full screen) holding `text`. */
const composer = (page, hasText) => (hasText ? page.locator(WINDOW, { hasText }) : page.locator(WINDOW));

/** Wait for the autosave indicator to settle on "Saved". */
async function waitSaved(window) {
  await expectVisible(window.getByText("Saved", { exact: true }), "the autosave indicator saying Saved");
}

/** The attachment `name` listed in `window` with its upload finished (no progress bar left). */
async function waitAttached(window, name) {
  const row = window.getByRole("list", { name: "Attachments" }).getByRole("listitem", { name });
  await expectVisible(row, `the attachment ${name}`);
  await row.getByRole("progressbar").waitFor({ state: "detached", timeout: 20_000 });
  const failed = await row.getByRole("alert").count();
  assert(failed === 0, `the upload of ${name} failed: ${await row.textContent()}`);
}

/** Open "Project kickoff notes" from the inbox; answers its thread's and its message's ids. */
async function openOriginal(page, baseUrl) {
  await page.goto(`${baseUrl}/`);
  const row = page.locator(ROW, { hasText: ORIGINAL });
  await expectVisible(row, "the Project kickoff notes row");
  const threadId = await row.getAttribute("data-thread-id");
  await row.locator("a").first().click();
  const message = page.locator(MESSAGE, { hasText: "Notes from today's kickoff" });
  await expectVisible(message, "the original message");
  return { threadId, messageId: await message.getAttribute("data-message-id") };
}

export async function runComposeChecks({ baseUrl, browser, page, dovecot, user, errors }) {
  let threadId = null;
  let originalId = null;
  let call = null;

  await check("compose: r opens the inline reply, prefilled; a non-ASCII file uploads; it autosaves", async () => {
    call = await apiSession(baseUrl, user);
    const patched = await call("PATCH", "/api/users/me", { send_undo_seconds: UNDO_SECONDS });
    assert(patched === 200, `PATCH /api/users/me answered ${patched}`);
    ({ threadId, messageId: originalId } = await openOriginal(page, baseUrl));
    await page.keyboard.press("r");
    const window = composer(page);
    await expectVisible(window, "the reply composer");
    assert((await window.getAttribute("role")) === "region", "the reply did not open inline under the thread");
    await expectVisible(window.getByRole("button", { name: /Bo Chen <bo@example\.org>/ }), "the To chip for Bo Chen");
    const subject = await window.getByRole("textbox", { name: "Subject" }).inputValue();
    assert(subject === REPLY_SUBJECT, `the subject is ${JSON.stringify(subject)}`);
    const body = window.getByRole("textbox", { name: "Message body" });
    await expectVisible(body.locator("blockquote", { hasText: "Notes from today's kickoff" }), "the quoted original");
    // The focus is in the body, above the quote.
    await page.keyboard.type(REPLY_TEXT);
    const firstLine = await body.locator("p").first().textContent();
    assert(firstLine?.includes(REPLY_TEXT), `the reply was not typed above the quote: ${firstLine}`);
    await window.locator('input[type="file"]').setInputFiles({
      name: ATTACHMENT,
      mimeType: "text/plain",
      buffer: Buffer.from("Monday 10:00 — kickoff follow-up\nGrüße\n", "utf8"),
    });
    await waitAttached(window, ATTACHMENT);
    await waitSaved(window);
    await screenshot(page, "compose-reply");
  });

  await check("compose: axe finds no serious violation in the open reply composer", async () => {
    await expectVisible(composer(page, REPLY_TEXT), "the reply composer");
    await assertAccessible(page, "the reply composer");
    await screenshot(page, "compose-reply-axe");
  });

  await check("compose: Ctrl+Enter sends, Undo brings the reply back, and nothing reaches the SMTP server", async () => {
    const window = composer(page, REPLY_TEXT);
    await window.getByRole("textbox", { name: "Message body" }).click();
    await page.keyboard.press("Control+Enter");
    await window.waitFor({ state: "hidden" });
    const snackbar = page.getByRole("status").filter({ hasText: /Sending/ });
    await expectVisible(snackbar, "the Sending… snackbar");
    await screenshot(page, "compose-sending");
    await snackbar.getByRole("button", { name: "Undo" }).click();
    const undone = Date.now();
    const back = composer(page, REPLY_TEXT);
    await expectVisible(back, "the reply back in its composer after Undo");
    await waitAttached(back, ATTACHMENT);
    await expectVisible(page.getByText("Sending undone."), "the 'Sending undone.' notice");
    // Past the undo window (and a margin for the worker): had the undo failed, it would be here.
    await sleep(Math.max(0, UNDO_SECONDS * 1000 + 2000 - (Date.now() - undone)));
    const received = await repliesAtSmtp(dovecot);
    assert(received.length === 0, `the SMTP server received ${received.length} message(s) after Undo`);
    await expectVisible(back, "the reply composer");
    await screenshot(page, "compose-undone");
  });

  await check("compose: sent again, it arrives once at SMTP and in Sent, in the same thread", async () => {
    const window = composer(page, REPLY_TEXT);
    await window.getByRole("button", { name: "Send", exact: true }).click();
    await window.waitFor({ state: "hidden" });
    await expectVisible(page.getByRole("status").filter({ hasText: /Sending|sent/ }), "the send snackbar");
    const [reply] = await waitFor(
      async () => {
        const received = await repliesAtSmtp(dovecot);
        return received.length > 0 ? received : null;
      },
      "the reply did not reach the SMTP server",
      UNDO_SECONDS * 1000 + 20_000,
    );
    // A second delivery would follow the first closely: look again after a moment.
    await sleep(1000);
    const all = await repliesAtSmtp(dovecot);
    assert(all.length === 1, `the SMTP server received the reply ${all.length} times`);
    const thread = await call.json("GET", `/api/threads/${threadId}`);
    assert(thread.status === 200, `GET /api/threads/${threadId} answered ${thread.status}`);
    const original = thread.body.messages.find((message) => String(message.id) === originalId)?.message_id;
    assert(original, "the original message has no Message-ID");
    // The API gives the id without its angle brackets; the header has them.
    assert(reply.in_reply_to === `<${original.replace(/^<|>$/g, "")}>`, `In-Reply-To is ${JSON.stringify(reply.in_reply_to)}, expected ${original}`);
    assert(
      JSON.stringify(reply.attachments) === JSON.stringify([ATTACHMENT]),
      `the attachments are ${JSON.stringify(reply.attachments)}`,
    );
    assert(reply.to.includes("bo@example.org"), `To is ${reply.to}`);
    const sent = await waitFor(
      async () => {
        const { subjects } = await dovecot.command("folder Sent");
        return subjects.includes(REPLY_SUBJECT) ? subjects : null;
      },
      "the reply did not reach the Sent folder on the IMAP server",
      20_000,
    );
    const copies = sent.filter((subject) => subject === REPLY_SUBJECT).length;
    assert(copies === 1, `the Sent folder holds the reply ${copies} times`);
  });

  await check("compose: the reply shows in its thread and in the Sent view", async () => {
    assert(threadId, "the original's thread is unknown");
    await page.goto(`${baseUrl}/?thread=${encodeURIComponent(threadId)}`);
    await waitFor(
      async () => {
        if ((await page.locator(MESSAGE).count()) >= 2) return true;
        await page.reload();
        await page.locator(MESSAGE).first().waitFor();
        return false;
      },
      "the thread did not gain the reply",
      20_000,
    );
    const count = await page.locator(MESSAGE).count();
    assert(count === 2, `the thread shows ${count} messages, expected 2`);
    // The reply is HTML mail: its body is in the card's sandboxed frame.
    const newest = page.locator(MESSAGE).last();
    const body = (await newest.locator("iframe").count()) > 0 ? newest.frameLocator("iframe").first() : newest;
    await expectVisible(body.getByText(REPLY_TEXT), "the reply's text in the thread");
    await screenshot(page, "compose-thread");
    await page.goto(`${baseUrl}/?folder=sent`);
    const row = page.locator(ROW, { hasText: ORIGINAL });
    await expectVisible(row, "the thread in the Sent view");
    assert((await row.getAttribute("data-thread-id")) === threadId, "the Sent view lists the reply in another thread");
    await screenshot(page, "compose-sent");
  });

  const draftSubject = `Agenda for Monday ${Date.now() % 100000}`;
  await check("compose: c writes new mail with autocomplete and bold text; Escape keeps it in Drafts", async () => {
    await page.goto(`${baseUrl}/`);
    await page.locator(ROW).first().waitFor();
    await page.keyboard.press("c");
    const window = composer(page);
    await expectVisible(window, "the new-message window");
    assert((await window.getAttribute("role")) === "dialog", "the new message did not open as a window");
    const to = window.getByRole("combobox", { name: "To" });
    await expectVisible(to, "the To field");
    await to.pressSequentially("bo");
    const suggestion = page.getByRole("listbox", { name: "Suggestions for To" }).getByRole("option", { name: /Bo Chen/ });
    await expectVisible(suggestion, "Bo Chen among the suggestions");
    await screenshot(page, "compose-autocomplete");
    await suggestion.click();
    await expectVisible(window.getByRole("button", { name: /Bo Chen <bo@example\.org>/ }), "the chosen chip");
    await window.getByRole("textbox", { name: "Subject" }).fill(draftSubject);
    await window.getByRole("textbox", { name: "Message body" }).click();
    await page.keyboard.press("Control+b");
    await page.keyboard.type("Bold plans");
    await page.keyboard.press("Control+b");
    await page.keyboard.type(" and the rest in plain words.");
    const bold = await window.locator(".tiptap strong").allTextContents();
    assert(bold.join("") === "Bold plans", `the bold text is ${JSON.stringify(bold)}`);
    await waitSaved(window);
    await assertAccessible(page, "the new-message window");
    await screenshot(page, "compose-new");
    await page.keyboard.press("Escape");
    await window.waitFor({ state: "detached" });
    await page.goto(`${baseUrl}/?folder=drafts`);
    await expectVisible(page.locator("[data-row-id]", { hasText: draftSubject }), "the draft in Drafts");
    await page.reload();
    await expectVisible(page.locator("[data-row-id]", { hasText: draftSubject }), "the draft in Drafts after a reload");
    await screenshot(page, "compose-drafts");
  });

  await check("compose: a draft opened from Drafts has its text back, and is discarded", async () => {
    await page.locator("[data-row-id]", { hasText: draftSubject }).getByRole("button").first().click();
    const window = composer(page, "Bold plans");
    await expectVisible(window, "the draft's window");
    const bold = await window.locator(".tiptap strong").allTextContents();
    assert(bold.join("") === "Bold plans", `the reopened draft's bold text is ${JSON.stringify(bold)}`);
    await expectVisible(window.getByRole("button", { name: /Bo Chen <bo@example\.org>/ }), "the draft's recipient");
    const subject = await window.getByRole("textbox", { name: "Subject" }).inputValue();
    assert(subject === draftSubject, `the reopened subject is ${JSON.stringify(subject)}`);
    await screenshot(page, "compose-draft-reopened");
    await window.getByRole("button", { name: "Discard draft" }).click();
    await window.waitFor({ state: "detached" });
    await expectVisible(page.getByText("Draft discarded."), "the discard notice");
    await page.locator("[data-row-id]", { hasText: draftSubject }).waitFor({ state: "detached" });
    await page.reload();
    await page.getByRole("heading").first().waitFor();
    await sleep(500);
    const left = await page.locator("[data-row-id]", { hasText: draftSubject }).count();
    assert(left === 0, "the discarded draft is still in Drafts after a reload");
  });

  await check("compose: at phone width the reply takes the whole screen", async () => {
    const phoneContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      colorScheme: "dark",
    });
    try {
      const login = await phoneContext.request.post(`${baseUrl}/api/auth/login`, {
        data: { email: user.email, password: user.password },
      });
      assert(login.ok(), `phone login answered ${login.status()}`);
      const phone = await phoneContext.newPage();
      phone.setDefaultTimeout(15_000);
      watchErrors(phone, errors);
      await phone.goto(`${baseUrl}/?thread=${encodeURIComponent(threadId)}`);
      await expectVisible(phone.locator(MESSAGE).first(), "the thread");
      await phone.getByRole("group", { name: "Answer" }).getByRole("button", { name: "Reply", exact: true }).click();
      const window = composer(phone);
      await expectVisible(window, "the reply composer");
      await expectVisible(window.getByRole("textbox", { name: "Message body" }), "the reply's body");
      const box = await window.boundingBox();
      assert(
        box && box.x === 0 && box.y === 0 && box.width === 390 && Math.abs(box.height - 844) <= 1,
        `the composer is not full screen: ${JSON.stringify(box)}`,
      );
      await assertNoHorizontalOverflow(phone, "the reply composer");
      await screenshot(phone, "compose-phone-reply");
      await window.getByRole("button", { name: "Save and close" }).click();
      await window.waitFor({ state: "detached" });
      await expectVisible(phone.locator(MESSAGE).first(), "the thread after closing the composer");
    } finally {
      await phoneContext.close();
    }
  });
}
