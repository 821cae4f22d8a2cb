"use client";

import { useState, type RefObject } from "react";

import { STARRED_QUERY, useMailLocation } from "@/components/Mail/location";
import { useMailShortcuts, type ShortcutAction } from "@/components/Mail/shortcuts";

interface RowKeysOptions {
  /** The rows' ids, in order. */
  ids: readonly string[];
  /** The list's element; rows carry `data-row-id`. */
  container: RefObject<HTMLElement | null>;
  /** o/Enter on the focused row. */
  onOpen?: (id: string) => void;
  /** # on the focused row. */
  onDelete?: (id: string) => void;
  /** Off while a dialog is open. */
  enabled: boolean;
}

/**
 * Gmail's keys for the smaller lists: j/k move the focus bar (and the keyboard focus) between
 * rows, o/Enter and # act on the focused row, g i/g s/g d and / go where they always go.
 */
export function useRowKeys({ ids, container, onOpen, onDelete, enabled }: RowKeysOptions) {
  const { location, go } = useMailLocation();
  const [chosen, setFocused] = useState<string | null>(null);
  // A row that left the list (sent, discarded) no longer holds the bar.
  const focusedId = chosen !== null && ids.includes(chosen) ? chosen : null;

  const focusRow = (id: string) => {
    setFocused(id);
    container.current?.querySelector<HTMLElement>(`[data-row-id="${CSS.escape(id)}"] .pw-link`)?.focus();
  };

  // A new handler each render is fine: useMailShortcuts keeps the latest in a ref.
  const onAction = (action: ShortcutAction) => {
    const position = focusedId === null ? -1 : ids.indexOf(focusedId);
    const move = (step: number) => {
      const index = position < 0 ? 0 : Math.max(0, Math.min(ids.length - 1, position + step));
      const id = ids[index];
      if (id !== undefined) focusRow(id);
    };
    switch (action) {
      case "next":
        return move(1);
      case "previous":
        return move(-1);
      case "open":
        if (focusedId) onOpen?.(focusedId);
        return;
      case "trash":
        if (focusedId) onDelete?.(focusedId);
        return;
      case "search":
        document.getElementById("mail-search-input")?.focus();
        return;
      case "goInbox":
        return go({ folder: "inbox", account: location.account });
      case "goStarred":
        return go({ q: STARRED_QUERY, account: location.account });
      case "goDrafts":
        return go({ folder: "drafts", account: location.account });
      default:
        return;
    }
  };
  useMailShortcuts(onAction, enabled);

  return { focusedId, setFocused };
}
