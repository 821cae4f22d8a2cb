"use client";

import CloseIcon from "@mui/icons-material/Close";
import SearchIcon from "@mui/icons-material/Search";
import TuneIcon from "@mui/icons-material/Tune";
import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import IconButton from "@mui/material/IconButton";
import InputBase from "@mui/material/InputBase";
import Paper from "@mui/material/Paper";
import Tooltip from "@mui/material/Tooltip";
import { useQueryClient } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import {
  lazy,
  Suspense,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type SyntheticEvent,
} from "react";

import { mailKeys } from "@/api/keys";
import { describeSearchError } from "@/api/search";
import { authStore } from "@/auth/store";
import { useOpenedOnce, usePreloadOnIdle } from "@/components/lazy/lazy";

import { collectCorrespondents, type Correspondent } from "./correspondents";
import { joinQuery, quoteValue, replaceWord, splitQuery, type SearchChip } from "./query";
import { clearRecentSearches, loadRecentSearches, rememberSearch } from "./recent";
import { buildSuggestions, type Suggestion } from "./suggestions";
import { LISTBOX_ID, optionId, SuggestionList } from "./SuggestionList";
import { useSearchError } from "./useSearchError";

// Lazy: the filter form (MUI TextField, Popover) opens on demand; preloaded on idle.
const loadFilterPopover = () => import("./FilterPopover");
const FilterPopover = lazy(() => loadFilterPopover().then((m) => ({ default: m.FilterPopover })));

/** The input's id: the `/` shortcut focuses it. */
export const SEARCH_INPUT_ID = "mail-search-input";
const ERROR_ID = "mail-search-error";

/** The mail view for a search (`/?q=…`), keeping the mailbox filter; no query: the inbox. */
export function searchUrl(query: string, account: string | null): string {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (account) params.set("account", account);
  const search = params.toString();
  return search ? `/?${search}` : "/";
}

/**
 * The search field at the top centre of every mail screen. Reading the URL's `q` needs a
 * Suspense boundary in a static export; the fallback is the same field, empty, so the
 * prerendered top bar has its final layout.
 */
export function SearchBar() {
  return (
    <Suspense fallback={<SearchBox query="" account={null} />}>
      <SearchBarFromUrl />
    </Suspense>
  );
}

function SearchBarFromUrl() {
  const params = useSearchParams();
  return <SearchBox query={params.get("q") ?? ""} account={params.get("account")} />;
}

interface Draft {
  chips: SearchChip[];
  text: string;
}

function draftOf(query: string): Draft {
  const { chips, rest } = splitQuery(query);
  return { chips, text: rest };
}

function SearchBox({ query, account }: { query: string; account: string | null }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const inputRef = useRef<HTMLInputElement>(null);
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);

  // The query being edited: filters as chips and the rest as text. It follows the URL (back,
  // forward, a link) and is otherwise the user's until they run it.
  const [draft, setDraft] = useState(() => draftOf(query));
  const [shownQuery, setShownQuery] = useState(query);
  if (shownQuery !== query) {
    setShownQuery(query);
    setDraft(draftOf(query));
  }
  const full = joinQuery(draft.chips, draft.text);

  const [caret, setCaret] = useState(draft.text.length);
  const caretToRestore = useRef<number | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [recent, setRecent] = useState<string[]>([]);
  const [people, setPeople] = useState<Correspondent[]>([]);
  const [filtersOpen, setFiltersOpen] = useState(false);
  const filtersUsed = useOpenedOnce(filtersOpen);
  usePreloadOnIdle(loadFilterPopover);

  const suggestions = useMemo(
    () => buildSuggestions({ text: draft.text, caret, recent, people }),
    [draft.text, caret, recent, people],
  );
  const listShown = open && suggestions.length > 0;

  const searchError = useSearchError(query);
  const errorText = searchError ? describeSearchError(searchError, query) : null;

  // Recent searches say what someone looked for: forget them when they sign out on purpose.
  useEffect(
    () =>
      authStore.subscribe(() => {
        const state = authStore.getState();
        if (state.status === "signed-out" && state.reason === "explicit") clearRecentSearches();
      }),
    [],
  );

  // After a completion replaced the word being typed, put the caret after it.
  useLayoutEffect(() => {
    const position = caretToRestore.current;
    if (position === null || inputRef.current === null) return;
    caretToRestore.current = null;
    inputRef.current.setSelectionRange(position, position);
  }, [draft]);

  // Keep the chips next to the text in view when the strip is wider than its room (phones).
  const chipStrip = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const strip = chipStrip.current;
    if (strip) strip.scrollLeft = strip.scrollWidth;
  }, [draft.chips]);

  const openSuggestions = () => {
    // Read when the list opens, not on every key: both are cheap then and current enough.
    setRecent(loadRecentSearches());
    setPeople(collectCorrespondents(queryClient));
    setOpen(true);
  };

  const commit = (next: string) => {
    const q = next.trim();
    setOpen(false);
    setActive(-1);
    setDraft(draftOf(q));
    if (q !== "") setRecent(rememberSearch(q));
    if (q === query) {
      // The same search again: the user expects fresh results.
      if (q === "") return;
      void queryClient.invalidateQueries({
        predicate: ({ queryKey }) =>
          queryKey[0] === mailKeys.threadLists[0] && (queryKey[1] as { q?: unknown } | undefined)?.q === q,
      });
      return;
    }
    router.push(searchUrl(q, account));
  };

  const edit = (text: string, at: number) => {
    setDraft({ chips: draft.chips, text });
    setCaret(at);
    setActive(-1);
    if (!open) openSuggestions();
  };

  const removeChip = (chip: SearchChip) => {
    commit(joinQuery(draft.chips.filter((other) => other !== chip), draft.text));
  };

  const choose = (suggestion: Suggestion) => {
    switch (suggestion.kind) {
      case "recent":
        commit(suggestion.query);
        inputRef.current?.blur();
        return;
      case "person": {
        const term = `${suggestion.field}:${quoteValue(suggestion.address) ?? ""}`;
        const { text } = replaceWord(draft.text, caret, term, { space: false });
        commit(joinQuery(draft.chips, text));
        inputRef.current?.blur();
        return;
      }
      case "operator": {
        const { completion } = suggestion;
        const next = replaceWord(draft.text, caret, completion.text, { space: !completion.needsValue });
        caretToRestore.current = next.caret;
        edit(next.text, next.caret);
        return;
      }
      case "clear-recent":
        clearRecentSearches();
        setRecent([]);
        setActive(-1);
        return;
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    // Keys that confirm an IME composition are not ours.
    if (event.nativeEvent.isComposing) return;
    const input = event.currentTarget;
    const count = suggestions.length;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        if (count === 0) return;
        event.preventDefault();
        if (!open) openSuggestions();
        const down = event.key === "ArrowDown";
        setActive((current) => {
          if (!listShown || current < 0) return down ? 0 : count - 1;
          return (current + (down ? 1 : count - 1)) % count;
        });
        return;
      }
      case "Enter": {
        event.preventDefault();
        const highlighted = listShown && active >= 0 ? suggestions[active] : undefined;
        if (highlighted) {
          choose(highlighted);
          return;
        }
        // Running the search hands the keyboard to the list (j/k work outside fields).
        commit(full);
        input.blur();
        return;
      }
      case "Escape":
        event.preventDefault();
        if (listShown) {
          setOpen(false);
          setActive(-1);
          return;
        }
        // Leave the field as the search that is shown, dropping what was not run.
        setDraft(draftOf(query));
        input.blur();
        return;
      case "Backspace":
        // Like a tag field: at the start of the text, Backspace takes the last filter off.
        if (input.selectionStart === 0 && input.selectionEnd === 0 && draft.chips.length > 0) {
          event.preventDefault();
          setDraft({ chips: draft.chips.slice(0, -1), text: draft.text });
        }
        return;
      case "Tab":
        setOpen(false);
        setActive(-1);
        return;
    }
  };

  const clear = () => {
    setDraft({ chips: [], text: "" });
    setCaret(0);
    inputRef.current?.focus();
    if (query !== "") commit("");
  };

  const hasContent = draft.chips.length > 0 || draft.text !== "";

  return (
    <Box ref={setAnchor} sx={{ position: "relative", width: "100%", maxWidth: 720, minWidth: 0 }}>
      <Box
        component="form"
        role="search"
        aria-label="Mail"
        onSubmit={(event) => event.preventDefault()}
        sx={{
          display: "flex",
          alignItems: "center",
          gap: 0.5,
          minHeight: 40,
          pl: 1.25,
          pr: 0.25,
          borderRadius: 2,
          bgcolor: "action.hover",
          border: 1,
          borderColor: errorText ? "error.main" : "transparent",
          "&:focus-within": {
            bgcolor: "background.paper",
            borderColor: errorText ? "error.main" : "primary.main",
            boxShadow: 1,
          },
        }}
      >
        <SearchIcon aria-hidden fontSize="small" sx={{ color: "text.secondary", flexShrink: 0 }} />
        {draft.chips.length > 0 && (
          <Box
            ref={chipStrip}
            sx={{
              display: "flex",
              gap: 0.5,
              flexShrink: 1,
              minWidth: 0,
              maxWidth: "60%",
              overflowX: "auto",
              scrollbarWidth: "none",
              // On a phone the strip scrolls; the fade says there is more to its left.
              maskImage: { xs: "linear-gradient(to right, transparent, #000 12px)", sm: "none" },
              py: 0.5,
            }}
          >
            {draft.chips.map((chip) => (
              <Chip
                key={`${chip.start}:${chip.raw}`}
                size="small"
                label={chip.label}
                title={chip.raw}
                aria-label={`Remove filter ${chip.label}`}
                onClick={() => removeChip(chip)}
                onDelete={() => removeChip(chip)}
                // Whole chips in a strip that scrolls sideways, rather than chips cut to "Fro…".
                sx={{ flexShrink: 0, maxWidth: "none" }}
              />
            ))}
          </Box>
        )}
        <InputBase
          inputRef={inputRef}
          value={draft.text}
          placeholder={draft.chips.length > 0 ? "" : "Search mail"}
          onChange={(event) => edit(event.target.value, event.target.selectionStart ?? event.target.value.length)}
          onFocus={openSuggestions}
          onBlur={() => {
            setOpen(false);
            setActive(-1);
          }}
          onKeyDown={onKeyDown}
          sx={{ flex: 1, minWidth: 64, fontSize: 15 }}
          inputProps={{
            id: SEARCH_INPUT_ID,
            "aria-label": "Search mail",
            role: "combobox",
            "aria-autocomplete": "list",
            "aria-expanded": listShown,
            "aria-controls": listShown ? LISTBOX_ID : undefined,
            "aria-activedescendant": listShown && active >= 0 ? optionId(active) : undefined,
            "aria-invalid": errorText ? true : undefined,
            "aria-describedby": errorText ? ERROR_ID : undefined,
            autoComplete: "off",
            autoCapitalize: "none",
            spellCheck: false,
            enterKeyHint: "search",
            // The caret decides which word the suggestions complete.
            onSelect: (event: SyntheticEvent<HTMLInputElement>) =>
              setCaret(event.currentTarget.selectionStart ?? event.currentTarget.value.length),
          }}
        />
        {hasContent && (
          <Tooltip title="Clear search">
            <IconButton size="small" aria-label="Clear search" onClick={clear}>
              <CloseIcon fontSize="small" />
            </IconButton>
          </Tooltip>
        )}
        <Tooltip title="Search filters">
          <IconButton
            size="small"
            aria-label="Search filters"
            aria-haspopup="dialog"
            aria-expanded={filtersOpen}
            onClick={() => setFiltersOpen(true)}
          >
            <TuneIcon fontSize="small" />
          </IconButton>
        </Tooltip>
      </Box>
      {errorText && !listShown && (
        <Paper
          id={ERROR_ID}
          role="alert"
          elevation={4}
          sx={{
            position: "absolute",
            top: "100%",
            left: 0,
            right: 0,
            mt: 0.5,
            px: 1.5,
            py: 1,
            color: "error.main",
            fontSize: 14,
            zIndex: 1,
          }}
        >
          {errorText}
        </Paper>
      )}
      <SuggestionList
        anchorEl={anchor}
        open={open}
        suggestions={suggestions}
        active={active}
        onChoose={choose}
        onHover={setActive}
      />
      {filtersUsed && (
        <Suspense fallback={null}>
          <FilterPopover
            anchorEl={anchor}
            open={filtersOpen}
            query={full}
            onClose={() => setFiltersOpen(false)}
            onApply={(next) => {
              setFiltersOpen(false);
              commit(next);
            }}
          />
        </Suspense>
      )}
    </Box>
  );
}
