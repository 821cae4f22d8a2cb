import { describe, expect, it } from "vitest";

import { htmlToText, textToHtml } from "./bodyText";
import { composeErrors, fieldOfPath } from "./problems";
import {
  addChips,
  formatRecipient,
  hasSeparator,
  isValidAddress,
  parseRecipients,
  recipientsOf,
  splitFinished,
} from "./recipients";
import { fromLocalInput, schedulePresets, toLocalInput } from "./schedule";
import { ApiError } from "@/api/client";

describe("parseRecipients", () => {
  it("reads names, quoted names with commas, bare addresses and several separators", () => {
    expect(parseRecipients('Ana Lima <ana@example.com>, "Lima, Bo" <bo@x.org>; cy@y.net\nmailto:dee@z.io')).toEqual([
      { name: "Ana Lima", address: "ana@example.com", valid: true },
      { name: "Lima, Bo", address: "bo@x.org", valid: true },
      { name: "", address: "cy@y.net", valid: true },
      { name: "", address: "dee@z.io", valid: true },
    ]);
  });

  it("splits a pasted run of bare addresses at spaces, but keeps a name with spaces whole", () => {
    expect(parseRecipients("a@x.org b@y.org").map((chip) => chip.address)).toEqual(["a@x.org", "b@y.org"]);
    expect(parseRecipients("not an address")).toEqual([{ name: "", address: "not an address", valid: false }]);
  });

  it("marks what is no address invalid, as the server would refuse it", () => {
    expect(isValidAddress("ana@example.com")).toBe(true);
    expect(isValidAddress("ops@mail_server.internal")).toBe(true);
    expect(isValidAddress("root@localhost")).toBe(true);
    expect(isValidAddress("ana@")).toBe(false);
    expect(isValidAddress("@example.com")).toBe(false);
    expect(isValidAddress("ana example@x.org")).toBe(false);
    expect(isValidAddress("ana@10.0.0.1")).toBe(false);
    expect(isValidAddress("ana@-bad-.org")).toBe(false);
  });

  it("knows where a recipient ends while typing", () => {
    expect(hasSeparator("ana@x.org,")).toBe(true);
    expect(hasSeparator('"Lima, Ana')).toBe(false);
    expect(splitFinished("ana@x.org, bo@y")).toEqual({ finished: "ana@x.org", rest: "bo@y" });
  });

  it("formats, de-duplicates and drops invalid chips for the server", () => {
    expect(formatRecipient({ name: "Lima, Ana", address: "ana@x.org" })).toBe('"Lima, Ana" <ana@x.org>');
    const chips = addChips(parseRecipients("ana@x.org, nope"), parseRecipients("ANA@x.org, bo@y.org"));
    expect(chips.map((chip) => chip.address)).toEqual(["ana@x.org", "nope", "bo@y.org"]);
    expect(recipientsOf(chips)).toEqual([
      { name: "", address: "ana@x.org" },
      { name: "", address: "bo@y.org" },
    ]);
  });
});

describe("body text", () => {
  it("writes quotes with '> ', lists with markers and links with their address", () => {
    const html =
      '<p>Hi <strong>Ana</strong>,</p><p></p><ul><li><p>one</p></li><li><p>two</p></li></ul>' +
      '<ol><li><p>first</p></li></ol><p>See <a href="https://x.org/a">the plan</a></p>' +
      "<blockquote><p>Old line</p><blockquote><p>older</p></blockquote></blockquote>";
    expect(htmlToText(html)).toBe(
      "Hi Ana,\n\n- one\n- two\n1. first\nSee the plan <https://x.org/a>\n> Old line\n> > older",
    );
  });

  it("turns plain text back into paragraphs and quotes, escaping markup", () => {
    expect(textToHtml("a <b>\n\n> quoted\n> more")).toBe(
      "<p>a &lt;b&gt;</p><p></p><blockquote><p>quoted</p><p>more</p></blockquote>",
    );
  });
});

describe("problems", () => {
  it("puts a validation error next to the field its path names", () => {
    expect(fieldOfPath("body.to.0.address")).toBe("to");
    const error = new ApiError(422, {
      code: "validation_failed",
      errors: [{ field: "body.cc[1].address", message: "not a valid email address" }],
    });
    expect(composeErrors(error)).toEqual({ cc: "Not a valid email address." });
  });

  it("puts a problem about no field above the form, in words", () => {
    const error = new ApiError(409, { code: "smtp_not_configured", title: "x" });
    expect(composeErrors(error).form).toMatch(/can't send mail yet/);
  });
});

describe("schedule", () => {
  it("offers tomorrow and next Monday at 8:00", () => {
    const wednesday = new Date(2026, 11, 9, 15, 30);
    const [tomorrow, monday] = schedulePresets(wednesday);
    expect(tomorrow?.at).toEqual(new Date(2026, 11, 10, 8, 0));
    expect(monday?.at).toEqual(new Date(2026, 11, 14, 8, 0));
    // On a Monday, "Monday" is next week's.
    expect(schedulePresets(new Date(2026, 11, 14, 9))[1]?.at).toEqual(new Date(2026, 11, 21, 8, 0));
    // On a Sunday, tomorrow morning is Monday morning: offered once.
    expect(schedulePresets(new Date(2026, 11, 13, 9))).toHaveLength(1);
  });

  it("reads and writes datetime-local values in local time", () => {
    const date = new Date(2026, 0, 2, 7, 5);
    expect(toLocalInput(date)).toBe("2026-01-02T07:05");
    expect(fromLocalInput("2026-01-02T07:05")).toEqual(date);
    expect(fromLocalInput("")).toBeNull();
  });
});
