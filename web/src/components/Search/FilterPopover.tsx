"use client";

import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Checkbox from "@mui/material/Checkbox";
import FormControlLabel from "@mui/material/FormControlLabel";
import FormGroup from "@mui/material/FormGroup";
import Popover from "@mui/material/Popover";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { useState, type FormEvent } from "react";

import {
  addTerm,
  dateRange,
  dayInputValue,
  formatTerm,
  hasFlag,
  parseDay,
  setDateRange,
  setFlag,
  type FlagTerm,
} from "./query";

const FLAGS: { term: FlagTerm; label: string }[] = [
  { term: "has:attachment", label: "Has attachment" },
  { term: "is:unread", label: "Unread" },
  { term: "is:starred", label: "Starred" },
];

interface FilterPopoverProps {
  anchorEl: HTMLElement | null;
  open: boolean;
  /** The query being edited (chips and text together). */
  query: string;
  onClose: () => void;
  /** Run the query with the chosen filters. */
  onApply: (query: string) => void;
}

/** The filters the form edits, read from the query when it opens. */
function initialFilters(query: string) {
  const range = dateRange(query);
  return {
    from: "",
    flags: Object.fromEntries(FLAGS.map(({ term }) => [term, hasFlag(query, term)])) as Record<FlagTerm, boolean>,
    after: range.after ? dayInputValue(range.after) : "",
    before: range.before ? dayInputValue(range.before) : "",
  };
}

/**
 * "Search filters": a small form for the common operators, for people who do not type
 * `from:` and `after:`. It edits the query text, so what it adds shows up as chips.
 */
export function FilterPopover({ anchorEl, open, query, onClose, onApply }: FilterPopoverProps) {
  return (
    <Popover
      open={open}
      anchorEl={anchorEl}
      onClose={onClose}
      anchorOrigin={{ vertical: "bottom", horizontal: "right" }}
      transformOrigin={{ vertical: "top", horizontal: "right" }}
      slotProps={{ paper: { sx: { mt: 0.5, width: "min(360px, calc(100vw - 32px))" } } }}
    >
      {/* Mounted only while open, so every opening starts from the current query. */}
      {open && <FilterForm query={query} onApply={onApply} onCancel={onClose} />}
    </Popover>
  );
}

function FilterForm({ query, onApply, onCancel }: { query: string; onApply: (query: string) => void; onCancel: () => void }) {
  const [filters, setFilters] = useState(() => initialFilters(query));
  const after = parseDay(filters.after);
  const before = parseDay(filters.before);
  const backwards = after !== undefined && before !== undefined && filters.after >= filters.before;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (backwards) return;
    let next = query;
    const from = formatTerm("from", filters.from);
    if (from) next = addTerm(next, from);
    for (const { term } of FLAGS) next = setFlag(next, term, filters.flags[term]);
    next = setDateRange(next, { after, before });
    onApply(next);
  };

  return (
    <Box component="form" onSubmit={submit} aria-label="Search filters" sx={{ p: 2 }}>
      <Stack spacing={2}>
        <TextField
          label="From"
          placeholder="Name or email address"
          size="small"
          autoFocus
          value={filters.from}
          onChange={(event) => setFilters({ ...filters, from: event.target.value })}
        />
        <FormGroup>
          {FLAGS.map(({ term, label }) => (
            <FormControlLabel
              key={term}
              label={label}
              control={
                <Checkbox
                  size="small"
                  checked={filters.flags[term]}
                  onChange={(event) =>
                    setFilters({ ...filters, flags: { ...filters.flags, [term]: event.target.checked } })
                  }
                />
              }
            />
          ))}
        </FormGroup>
        <Box>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
            Received
          </Typography>
          <Stack direction="row" spacing={1}>
            <TextField
              label="After"
              type="date"
              size="small"
              fullWidth
              value={filters.after}
              onChange={(event) => setFilters({ ...filters, after: event.target.value })}
              slotProps={{ inputLabel: { shrink: true } }}
            />
            <TextField
              label="Before"
              type="date"
              size="small"
              fullWidth
              value={filters.before}
              onChange={(event) => setFilters({ ...filters, before: event.target.value })}
              slotProps={{ inputLabel: { shrink: true } }}
              error={backwards}
            />
          </Stack>
          {backwards && (
            <Typography variant="body2" color="error" role="alert" sx={{ mt: 1 }}>
              Choose a “before” day later than the “after” day.
            </Typography>
          )}
        </Box>
        <Stack direction="row" spacing={1} sx={{ justifyContent: "flex-end" }}>
          <Button onClick={onCancel}>Cancel</Button>
          <Button type="submit" variant="contained" disabled={backwards}>
            Search
          </Button>
        </Stack>
      </Stack>
    </Box>
  );
}
