"use client";

import { styled } from "@mui/material/styles";
import { useEffect, useState } from "react";

import { ListScroller } from "@/components/Mail/listStyles";

/**
 * The Drafts and Outbox lists wear the thread list's look (its row classes and styles) with a
 * few additions. They hold dozens of entries, not 100,000, so rows sit in the normal flow
 * instead of being placed by the virtualiser.
 */
export const RowList = styled(ListScroller)(({ theme }) => {
  const palette = (theme.vars ?? theme).palette;
  return {
    "& .pw-row": { position: "relative" },
    // No checkbox before the text (nothing to select in bulk): the text keeps its own margin.
    "& .pw-link": { paddingLeft: 12 },
    // The row's main area opens something in place (a button), not a page (a link).
    "& button.pw-link": {
      border: 0,
      background: "none",
      font: "inherit",
      textAlign: "left",
      cursor: "pointer",
      padding: 0,
      paddingLeft: 12,
    },
    "& .pw-none": { color: palette.error.main },
    "& .pw-status": {
      flex: "0 1 auto",
      maxWidth: "45%",
      overflow: "hidden",
      whiteSpace: "nowrap",
      textOverflow: "ellipsis",
      textAlign: "right",
      fontVariantNumeric: "tabular-nums",
      color: palette.text.secondary,
    },
    "& .pw-status[data-tone='failed']": { color: palette.error.main },
    "& .pw-status[data-tone='sending'], & .pw-status[data-tone='waiting']": { color: palette.text.primary },
    "& .pw-row-action": { flex: "none", display: "flex", alignItems: "center", gap: 4, marginLeft: 8 },
    "& .pw-row-action .MuiButton-root": { textTransform: "none", minWidth: 72 },
    "&[data-narrow] .pw-status": { maxWidth: "none", textAlign: "left" },
    // Phones have no hover: the row's actions stay in view.
    "&[data-narrow] .pw-hover-actions": { display: "flex", position: "static", transform: "none" },
  };
});

interface Person {
  name: string;
  address: string;
}

function shortName(person: Person, several: boolean): string {
  const name = person.name.trim();
  const full = name && !name.includes("@") ? name : person.address.split("@")[0] || person.address;
  return several ? (full.split(/\s+/)[0] ?? full) : full;
}

/** "To: Ana Lima"; "To: Ana, Bo"; "To: Ana, Bo, Cy +2"; null without recipients. */
export function formatRecipients(people: readonly Person[]): string | null {
  const seen = new Set<string>();
  const unique = people.filter((person) => {
    const key = person.address.toLowerCase();
    return !seen.has(key) && seen.add(key);
  });
  if (unique.length === 0) return null;
  const several = unique.length > 1;
  const names = unique.slice(0, 3).map((person) => shortName(person, several));
  const more = unique.length - names.length;
  return `To: ${names.join(", ")}${more > 0 ? ` +${more}` : ""}`;
}

/** "Now", refreshed every `interval` ms while `active` (dates and countdowns move on). */
export function useNow(interval: number, active = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(new Date()), interval);
    return () => clearInterval(timer);
  }, [interval, active]);
  return now;
}
