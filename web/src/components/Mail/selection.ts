/**
 * Which threads are checked. Ids, not positions: rows arrive and leave while the user works
 * (live mail, actions), and a checked thread must stay checked wherever it moves.
 */
export interface Selection {
  ids: ReadonlySet<string>;
  /** The last row clicked without Shift: one end of a Shift-click range. */
  anchor: string | null;
}

export const EMPTY_SELECTION: Selection = { ids: new Set(), anchor: null };

export function toggle(selection: Selection, id: string): Selection {
  const ids = new Set(selection.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { ids, anchor: id };
}

/**
 * Shift-click: check every row from the anchor to this one (in the list's current order).
 * Without an anchor still in the list, it is a plain toggle.
 */
export function extendTo(selection: Selection, order: readonly string[], id: string): Selection {
  const from = selection.anchor === null ? -1 : order.indexOf(selection.anchor);
  const to = order.indexOf(id);
  if (from < 0 || to < 0) return toggle(selection, id);
  const ids = new Set(selection.ids);
  const [start, end] = from <= to ? [from, to] : [to, from];
  for (let index = start; index <= end; index++) ids.add(order[index]!);
  return { ids, anchor: selection.anchor };
}

export function selectAll(order: readonly string[]): Selection {
  return { ids: new Set(order), anchor: null };
}

/** Forget checked threads that left the list (archived, moved); same object when none did. */
export function keepPresent(selection: Selection, present: ReadonlySet<string>): Selection {
  if (selection.ids.size === 0) return selection;
  let gone = false;
  for (const id of selection.ids) {
    if (!present.has(id)) {
      gone = true;
      break;
    }
  }
  if (!gone) return selection;
  const ids = new Set([...selection.ids].filter((id) => present.has(id)));
  return { ids, anchor: selection.anchor !== null && present.has(selection.anchor) ? selection.anchor : null };
}
