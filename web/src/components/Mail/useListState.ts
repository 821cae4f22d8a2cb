"use client";

import { useCallback, useLayoutEffect, useMemo, useRef, useState } from "react";

import { EMPTY_SELECTION, extendTo, keepPresent, selectAll, toggle, type Selection } from "./selection";
import type { ThreadSummary } from "./types";

interface Keyed<T> {
  list: string;
  value: T;
}

/**
 * The checked rows and the focus bar of one list. Both belong to the list they were made in:
 * opening another folder starts afresh, and checked rows that leave the list are forgotten.
 */
export function useListState(listKey: string, items: readonly ThreadSummary[]) {
  const [selectionState, setSelectionState] = useState<Keyed<Selection>>({ list: listKey, value: EMPTY_SELECTION });
  const [focusState, setFocusState] = useState<Keyed<string | null>>({ list: listKey, value: null });

  const present = useMemo(() => new Set(items.map((thread) => thread.id)), [items]);
  // Read when a shift-click or "select all" happens, not captured: callbacks that changed with
  // every page loaded would re-render every visible row (they reach the rows' handlers).
  const latestItems = useRef(items);
  useLayoutEffect(() => {
    latestItems.current = items;
  });
  const selection = useMemo(
    () => (selectionState.list === listKey ? keepPresent(selectionState.value, present) : EMPTY_SELECTION),
    [selectionState, listKey, present],
  );
  const focusedId = focusState.list === listKey ? focusState.value : null;

  const update = useCallback(
    (change: (current: Selection) => Selection) =>
      setSelectionState((state) => ({
        list: listKey,
        value: change(state.list === listKey ? state.value : EMPTY_SELECTION),
      })),
    [listKey],
  );

  return {
    selection,
    focusedId,
    setFocused: useCallback((id: string | null) => setFocusState({ list: listKey, value: id }), [listKey]),
    toggle: useCallback((id: string) => update((current) => toggle(current, id)), [update]),
    extend: useCallback((id: string) => update((current) => extendTo(current, idsOf(latestItems.current), id)), [update]),
    selectAll: useCallback(() => update(() => selectAll(idsOf(latestItems.current))), [update]),
    clear: useCallback(() => update(() => EMPTY_SELECTION), [update]),
  };
}

function idsOf(items: readonly ThreadSummary[]): string[] {
  return items.map((thread) => thread.id);
}
