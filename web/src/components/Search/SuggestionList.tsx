"use client";

import HistoryIcon from "@mui/icons-material/History";
import PersonOutlineIcon from "@mui/icons-material/PersonOutlineRounded";
import TuneIcon from "@mui/icons-material/Tune";
import Box from "@mui/material/Box";
import Paper from "@mui/material/Paper";
import Popper from "@mui/material/Popper";
import Typography from "@mui/material/Typography";
import { useEffect, type ReactNode } from "react";

import { suggestionGroup, type Suggestion, type SuggestionGroup } from "./suggestions";

export const LISTBOX_ID = "mail-search-listbox";

export function optionId(index: number): string {
  return `mail-search-option-${index}`;
}

interface SuggestionListProps {
  anchorEl: HTMLElement | null;
  open: boolean;
  suggestions: readonly Suggestion[];
  /** The highlighted row (arrow keys), -1 for none. */
  active: number;
  onChoose: (suggestion: Suggestion) => void;
  onHover: (index: number) => void;
}

function groupsOf(suggestions: readonly Suggestion[]) {
  const groups: { name: SuggestionGroup; rows: { suggestion: Suggestion; index: number }[] }[] = [];
  suggestions.forEach((suggestion, index) => {
    const name = suggestionGroup(suggestion);
    const last = groups.at(-1);
    if (last?.name === name) last.rows.push({ suggestion, index });
    else groups.push({ name, rows: [{ suggestion, index }] });
  });
  return groups;
}

function Row({ icon, primary, secondary }: { icon?: ReactNode; primary: ReactNode; secondary?: ReactNode }) {
  return (
    <>
      {icon && (
        <Box component="span" aria-hidden sx={{ display: "flex", color: "text.secondary" }}>
          {icon}
        </Box>
      )}
      <Box component="span" sx={{ minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>
        {primary}
        {secondary && (
          <Typography component="span" variant="body2" color="text.secondary" sx={{ ml: 1 }}>
            {secondary}
          </Typography>
        )}
      </Box>
    </>
  );
}

function SuggestionContent({ suggestion }: { suggestion: Suggestion }) {
  switch (suggestion.kind) {
    case "operator":
      return (
        <Row
          icon={<TuneIcon fontSize="small" />}
          primary={
            <Box component="span" sx={{ fontFamily: "monospace" }}>
              {suggestion.completion.text}
            </Box>
          }
          secondary={suggestion.completion.label}
        />
      );
    case "person":
      return (
        <Row
          icon={<PersonOutlineIcon fontSize="small" />}
          primary={suggestion.name || suggestion.address}
          secondary={suggestion.name ? suggestion.address : undefined}
        />
      );
    case "recent":
      return <Row icon={<HistoryIcon fontSize="small" />} primary={suggestion.query} />;
    case "clear-recent":
      return (
        <Box component="span" sx={{ color: "primary.main", fontWeight: 500 }}>
          Clear recent searches
        </Box>
      );
  }
}

/**
 * The list under the search field: a listbox whose rows the field highlights with
 * aria-activedescendant, so focus never leaves the field (typing goes on while choosing).
 */
export function SuggestionList({ anchorEl, open, suggestions, active, onChoose, onHover }: SuggestionListProps) {
  useEffect(() => {
    if (active < 0) return;
    // The test DOM (happy-dom) may have no scrollIntoView.
    document.getElementById(optionId(active))?.scrollIntoView?.({ block: "nearest" });
  }, [active]);

  const shown = open && suggestions.length > 0;
  return (
    <Popper
      open={shown}
      anchorEl={anchorEl}
      placement="bottom-start"
      // As wide as the field, and readable on a phone where the field is narrow.
      sx={{
        zIndex: (theme) => theme.zIndex.modal,
        width: anchorEl?.clientWidth,
        minWidth: "min(400px, calc(100vw - 16px))",
      }}
    >
      <Paper elevation={8} sx={{ mt: 0.5, maxHeight: "min(420px, 60vh)", overflowY: "auto" }}>
        <Box
          component="ul"
          role="listbox"
          id={LISTBOX_ID}
          aria-label="Search suggestions"
          // Keep focus (and the caret) in the field when a row is clicked.
          onMouseDown={(event) => event.preventDefault()}
          sx={{ listStyle: "none", m: 0, py: 0.5, px: 0 }}
        >
          {groupsOf(suggestions).map((group) => {
            const headingId = `mail-search-group-${group.name.replaceAll(" ", "-").toLowerCase()}`;
            return (
              <li role="presentation" key={group.name}>
                <Typography
                  id={headingId}
                  variant="caption"
                  color="text.secondary"
                  sx={{ display: "block", px: 2, pt: 1, pb: 0.5, fontWeight: 600 }}
                >
                  {group.name}
                </Typography>
                <Box component="ul" role="group" aria-labelledby={headingId} sx={{ listStyle: "none", m: 0, p: 0 }}>
                  {group.rows.map(({ suggestion, index }) => (
                    <Box
                      component="li"
                      key={index}
                      id={optionId(index)}
                      role="option"
                      aria-selected={index === active}
                      onClick={() => onChoose(suggestion)}
                      onMouseMove={() => index !== active && onHover(index)}
                      sx={{
                        display: "flex",
                        alignItems: "center",
                        gap: 1.5,
                        minHeight: 40,
                        px: 2,
                        cursor: "pointer",
                        fontSize: 14,
                        '&[aria-selected="true"]': { bgcolor: "action.selected" },
                      }}
                    >
                      <SuggestionContent suggestion={suggestion} />
                    </Box>
                  ))}
                </Box>
              </li>
            );
          })}
        </Box>
      </Paper>
    </Popper>
  );
}
