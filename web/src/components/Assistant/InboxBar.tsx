"use client";

import { styled } from "@mui/material/styles";
import { memo } from "react";

import type { InboxSection } from "@/api/keys";

import { chipOfQuery, FILTER_CHIPS, IMPORTANT_QUERY } from "./categories";

/**
 * The assistant's row above the inbox: the switch between Important and Everything else (when
 * the inbox is split) and the filter chips, each a search. Plain buttons under one style sheet:
 * this row is part of the inbox's first paint, so it costs no MUI component per chip.
 */

const Bar = styled("div")(({ theme }) => {
  const palette = (theme.vars ?? theme).palette;
  const primary = palette.primary.main;
  const chip = {
    flex: "none",
    height: 28,
    padding: "0 10px",
    border: `1px solid ${palette.divider}`,
    borderRadius: 14,
    background: "none",
    color: palette.text.secondary,
    font: "inherit",
    fontSize: 13,
    lineHeight: "26px",
    whiteSpace: "nowrap",
    cursor: "pointer",
    "&:hover": { backgroundColor: palette.action.hover, color: palette.text.primary },
    "&:focus-visible": { outline: `2px solid ${primary}`, outlineOffset: 1 },
    "&[aria-pressed=true]": {
      borderColor: primary,
      color: primary,
      backgroundColor: theme.alpha(primary, 0.08),
      fontWeight: 600,
    },
  } as const;
  return {
    display: "flex",
    alignItems: "center",
    gap: 6,
    minHeight: 44,
    padding: "0 8px",
    flex: "none",
    overflowX: "auto",
    overflowY: "hidden",
    scrollbarWidth: "thin",
    borderBottom: `1px solid ${palette.divider}`,
    "& .pw-chip": chip,
    "& .pw-segments": {
      flex: "none",
      display: "flex",
      border: `1px solid ${palette.divider}`,
      borderRadius: 8,
      overflow: "hidden",
    },
    "& .pw-segment": {
      ...chip,
      border: 0,
      borderRadius: 0,
      height: 30,
      lineHeight: "30px",
      padding: "0 12px",
      "&[aria-pressed=true]": {
        color: palette.primary.contrastText,
        backgroundColor: primary,
        fontWeight: 600,
      },
    },
    "& .pw-divider": { flex: "none", width: 1, height: 20, backgroundColor: palette.divider },
  };
});

export interface InboxBarProps {
  /** The search shown, if any: a chip's search shows that chip pressed. */
  query: string | undefined;
  split: boolean;
  section: InboxSection;
  onSplit: (split: boolean) => void;
  onSection: (section: InboxSection) => void;
  /** Run a chip's search; undefined goes back to the inbox. */
  onFilter: (query: string | undefined) => void;
}

/** Memoised: the mail screen re-renders with each page of the list, this row does not change. */
export const InboxBar = memo(function InboxBar({ query, split, section, onSplit, onSection, onFilter }: InboxBarProps) {
  const active = chipOfQuery(query);
  const inInbox = query === undefined;
  return (
    <Bar role="toolbar" aria-label="Assistant filters">
      <button
        type="button"
        className="pw-chip"
        aria-pressed={split}
        title="Show important mail apart from everything else"
        onClick={() => {
          onSplit(!split);
          if (!inInbox) onFilter(undefined);
        }}
      >
        Split inbox
      </button>
      {split && inInbox && (
        <div className="pw-segments" role="group" aria-label="Inbox section">
          <button
            type="button"
            className="pw-segment"
            aria-pressed={section === "important"}
            onClick={() => onSection("important")}
          >
            Important
          </button>
          <button
            type="button"
            className="pw-segment"
            aria-pressed={section === "other"}
            onClick={() => onSection("other")}
          >
            Everything else
          </button>
        </div>
      )}
      <span className="pw-divider" aria-hidden />
      <div role="group" aria-label="Filter by" style={{ display: "contents" }}>
        {FILTER_CHIPS.map((chip) => {
          const pressed = chip === active;
          // The split inbox's own Important section says the same as this search.
          if (split && inInbox && chip.query === IMPORTANT_QUERY) return null;
          return (
            <button
              key={chip.query}
              type="button"
              className="pw-chip"
              aria-pressed={pressed}
              title={pressed ? "Back to the inbox" : `Search for ${chip.query}`}
              onClick={() => onFilter(pressed ? undefined : chip.query)}
            >
              {chip.label}
            </button>
          );
        })}
      </div>
    </Bar>
  );
});
