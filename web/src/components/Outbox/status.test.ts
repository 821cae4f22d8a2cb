import { describe, expect, it } from "vitest";

import type { DraftSummary, OutboxEntry } from "@/api/outbox";
import { formatRecipients } from "@/components/Drafts/rows";
import { entryCount, mailEntries } from "@/components/Shell/navigation";

import { at, entry, NOW } from "./fixtures";
import { formatUpcoming, outboxStatus } from "./status";

const status = (extra: Partial<OutboxEntry>, now = NOW) => outboxStatus(entry(extra), now, "en-GB");

describe("outbox status", () => {
  it("counts down the undo window in whole seconds, rounding up", () => {
    expect(status({ send_at: at(8_000) }).text).toBe("Sending in 8 s");
    expect(status({ send_at: at(7_200) }).text).toBe("Sending in 8 s");
    expect(status({ send_at: at(300) }).text).toBe("Sending in 1 s");
    expect(status({ send_at: at(8_000) }, new Date(NOW.getTime() + 3_000)).text).toBe("Sending in 5 s");
    expect(status({ send_at: at(8_000) }).action).toBe("cancel");
  });

  it("says Sending… once the window has passed, and while the server sends", () => {
    expect(status({ send_at: at(-500) })).toMatchObject({ text: "Sending…", tone: "sending", action: "cancel" });
    expect(status({ status: "sending" })).toMatchObject({ text: "Sending…", action: null });
  });

  it("names the day and time of a scheduled send", () => {
    const tuesday = new Date(2026, 0, 6, 8, 0).toISOString();
    expect(status({ scheduled: true, send_at: tuesday })).toMatchObject({
      text: "Scheduled for Tue 8:00",
      icon: "scheduled",
      action: "cancel",
    });
    const later = new Date(2026, 1, 20, 9, 30).toISOString();
    expect(status({ scheduled: true, send_at: later }).text).toBe("Scheduled for 20 Feb, 9:30");
    const today = new Date(2026, 0, 4, 17, 15).toISOString();
    expect(status({ scheduled: true, send_at: today }).text).toBe("Scheduled for 17:15");
  });

  it("says why a message was not sent, with the server's reply for the tooltip", () => {
    const failed = status({
      status: "failed",
      last_error: "The recipient's server refused the address",
      smtp_reply: "550 5.1.1 <ana@example.com>: Recipient address rejected",
    });
    expect(failed).toMatchObject({
      text: "Not sent: The recipient's server refused the address",
      tone: "failed",
      detail: "550 5.1.1 <ana@example.com>: Recipient address rejected",
      action: "edit",
    });
    // No summary: the server's own words are the reason, not repeated in a tooltip.
    expect(status({ status: "failed", smtp_reply: "554 Rejected" })).toMatchObject({ text: "Not sent: 554 Rejected", detail: undefined });
  });

  it("tells a retry after a temporary failure from a first attempt", () => {
    const retry = status({ attempts: 2, last_error: "Server busy", send_at: at(-60_000), next_attempt_at: at(90_000) });
    expect(retry.text).toBe("Not sent yet, trying again 14:01: Server busy");
    expect(retry.action).toBe("cancel");
  });

  it("gives the time a message was sent", () => {
    expect(status({ status: "sent", sent_at: new Date(2026, 0, 4, 13, 5).toISOString() }).text).toBe("Sent 13:05");
    expect(status({ status: "sent", sent_at: new Date(2026, 0, 3, 9, 0).toISOString() }).text).toBe("Sent 3 Jan");
    expect(status({ status: "sent", sent_at: at(-1000) }).action).toBeNull();
  });

  it("formats times ahead by how far they are", () => {
    expect(formatUpcoming(new Date(2026, 0, 5, 8, 0).toISOString(), NOW, "en-GB")).toBe("Mon 8:00");
    expect(formatUpcoming(new Date(2027, 0, 5, 8, 0).toISOString(), NOW, "en-GB")).toBe("5 Jan 2027, 8:00");
  });
});

describe("recipients in a row", () => {
  it("shows one full name, several first names, and how many more", () => {
    expect(formatRecipients([])).toBeNull();
    expect(formatRecipients([{ name: "Ana Lima", address: "ana@example.com" }])).toBe("To: Ana Lima");
    expect(formatRecipients([{ name: "", address: "bo@example.com" }])).toBe("To: bo");
    expect(
      formatRecipients([
        { name: "Ana Lima", address: "ana@example.com" },
        { name: "Bo Berg", address: "bo@example.com" },
        { name: "", address: "ANA@example.com" },
        { name: "Cy", address: "cy@example.com" },
        { name: "Di", address: "di@example.com" },
      ]),
    ).toBe("To: Ana, Bo, Cy +1");
  });
});

describe("navigation counts", () => {
  const drafts = mailEntries.find((item) => item.label === "Drafts")!;
  const outbox = mailEntries.find((item) => item.label === "Outbox")!;
  const draft = { id: "d1" } as DraftSummary;

  it("counts drafts from the draft list and the outbox's waiting, sending and failed entries", () => {
    const sources = {
      folders: [],
      drafts: [draft, { ...draft, id: "d2" }],
      outbox: [entry(), entry({ id: "o2", status: "sending" }), entry({ id: "o3", status: "failed" }), entry({ id: "o4", status: "sent" })],
    };
    expect(entryCount(drafts, sources)).toEqual({ value: 2, kind: "total" });
    expect(entryCount(outbox, sources)).toEqual({ value: 3, kind: "total" });
    expect(outbox.whileCounted).toBe(true);
    expect(outbox.location).toEqual({ folder: "outbox" });
    expect(entryCount(outbox, { folders: [], drafts: undefined, outbox: [entry({ status: "sent" })] }).value).toBe(0);
  });
});
