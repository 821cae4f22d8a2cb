import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { ThreadSummary } from "./types";
import { useListState } from "./useListState";

const rows = (...ids: string[]) => ids.map((id) => ({ id }) as ThreadSummary);

describe("useListState", () => {
  it("keeps its callbacks while pages arrive, and they act on the rows loaded by then", () => {
    // The callbacks reach every visible row: callbacks made anew per page re-rendered them all.
    const { result, rerender } = renderHook(({ items }) => useListState("inbox", items), {
      initialProps: { items: rows("a", "b") },
    });
    const first = result.current;
    rerender({ items: rows("a", "b", "c", "d") });
    expect(result.current.extend).toBe(first.extend);
    expect(result.current.selectAll).toBe(first.selectAll);
    expect(result.current.toggle).toBe(first.toggle);

    act(() => result.current.selectAll());
    expect([...result.current.selection.ids]).toEqual(["a", "b", "c", "d"]);
    act(() => result.current.clear());
    act(() => result.current.toggle("b"));
    act(() => result.current.extend("d"));
    expect([...result.current.selection.ids].sort()).toEqual(["b", "c", "d"]);
  });
});
