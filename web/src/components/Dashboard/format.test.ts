import { describe, expect, it } from "vitest";

import { busiest, formatAgo, formatBytes, formatCount, formatDay, plural } from "./format";

describe("dashboard formatting", () => {
  it("writes sizes in binary multiples, one decimal below ten", () => {
    expect(formatBytes(0)).toBe("0 bytes");
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(1023)).toBe("1,023 bytes");
    expect(formatBytes(1536)).toBe("1.5 kB");
    expect(formatBytes(512 * 1024 ** 2)).toBe("512 MB");
    expect(formatBytes(2.5 * 1024 ** 3)).toBe("2.5 GB");
    expect(formatBytes(-5)).toBe("0 bytes");
  });

  it("keeps a server day on its date whatever the reader's zone", () => {
    // Parsed as a local date, "2026-12-03" would be 2 December west of Greenwich.
    expect(formatDay("2026-12-03")).toBe(
      new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" }).format(new Date(2026, 11, 3)),
    );
  });

  it("counts, pluralises and finds the busiest day", () => {
    expect(formatCount(100000)).toBe("100,000");
    expect(plural(1, "message", "messages")).toBe("1 message");
    expect(plural(1204, "message", "messages")).toBe("1,204 messages");
    const days = [
      { day: "a", n: 0 },
      { day: "b", n: 4 },
      { day: "c", n: 4 },
    ];
    expect(busiest(days, (d) => d.n)?.day).toBe("b");
    expect(busiest([{ day: "a", n: 0 }], (d) => d.n)).toBeUndefined();
  });

  it("says how long ago", () => {
    const now = Date.parse("2026-12-03T12:00:00Z");
    expect(formatAgo("2026-12-03T11:59:30Z", now)).toBe("just now");
    expect(formatAgo("2026-12-03T10:00:00Z", now)).toBe("2 hours ago");
    expect(formatAgo("2026-12-02T12:00:00Z", now)).toBe("yesterday");
  });
});
