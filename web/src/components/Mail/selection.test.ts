import { describe, expect, it } from "vitest";

import { EMPTY_SELECTION, extendTo, keepPresent, selectAll, toggle } from "./selection";

const order = ["a", "b", "c", "d", "e"];

describe("selection", () => {
  it("toggles one row and remembers it as the anchor", () => {
    const one = toggle(EMPTY_SELECTION, "b");
    expect([...one.ids]).toEqual(["b"]);
    expect(one.anchor).toBe("b");
    expect(toggle(one, "b").ids.size).toBe(0);
  });

  it("extends from the anchor to the clicked row, either way", () => {
    expect([...extendTo(toggle(EMPTY_SELECTION, "b"), order, "d").ids].sort()).toEqual(["b", "c", "d"]);
    expect([...extendTo(toggle(EMPTY_SELECTION, "d"), order, "a").ids].sort()).toEqual(["a", "b", "c", "d"]);
  });

  it("is a plain toggle without an anchor", () => {
    expect([...extendTo(EMPTY_SELECTION, order, "c").ids]).toEqual(["c"]);
  });

  it("forgets rows that left the list and keeps the same object otherwise", () => {
    const all = selectAll(order);
    expect(keepPresent(all, new Set(order))).toBe(all);
    expect([...keepPresent(all, new Set(["a", "e"])).ids]).toEqual(["a", "e"]);
  });
});
