import { describe, expect, it } from "vitest";

import { mailHref, parseLocation } from "@/components/Mail/location";

import { isActive, isCurrentMail, isWithin } from "./navigation";

const at = (query: string) => parseLocation(new URLSearchParams(query));

describe("navigation", () => {
  it("compares paths with and without the trailing slash", () => {
    expect(isActive("/settings/", "/settings")).toBe(true);
    expect(isActive("/", "/")).toBe(true);
    expect(isActive("/", "/settings/")).toBe(false);
    expect(isActive("/settings/", null)).toBe(false);
    expect(isWithin("/settings/", "/settings/appearance/")).toBe(true);
    expect(isWithin("/settings/", "/settingsx/")).toBe(false);
  });

  it("knows which mail entry is open, the open thread aside", () => {
    expect(isCurrentMail({ folder: "inbox" }, at(""))).toBe(true);
    expect(isCurrentMail({ folder: "inbox" }, at("thread=t1"))).toBe(true);
    expect(isCurrentMail({ folder: "inbox" }, at("account=a1"))).toBe(false);
    expect(isCurrentMail({ folder: "inbox", account: "a1" }, at("account=a1"))).toBe(true);
    expect(isCurrentMail({ q: "is:starred" }, at("q=is%3Astarred"))).toBe(true);
    expect(isCurrentMail({ folder: "inbox" }, at("q=is%3Astarred"))).toBe(false);
    expect(isCurrentMail({ folder: "inbox" }, null)).toBe(false);
  });

  it("builds mail links with the inbox as the bare address", () => {
    expect(mailHref({ folder: "inbox" })).toBe("/");
    expect(mailHref({ folder: "sent", account: "a1" })).toBe("/?folder=sent&account=a1");
    expect(mailHref({ folder: "sent", q: "from:ana" })).toBe("/?q=from%3Aana");
    expect(mailHref({ folder: "inbox", thread: "t1" })).toBe("/?thread=t1");
  });
});
