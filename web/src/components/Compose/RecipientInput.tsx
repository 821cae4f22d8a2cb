"use client";

import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import FormHelperText from "@mui/material/FormHelperText";
import Paper from "@mui/material/Paper";
import Popper from "@mui/material/Popper";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import {
  forwardRef,
  useId,
  useImperativeHandle,
  useMemo,
  useRef,
  useState,
  type ClipboardEvent,
  type KeyboardEvent,
  type ReactNode,
} from "react";

import { useContacts, type Contact } from "@/api/compose";
import { useDebounced } from "@/components/Mailboxes/useDebounced";

import {
  addChips,
  chipLabel,
  formatRecipient,
  hasSeparator,
  parseRecipients,
  splitFinished,
  type RecipientChip,
} from "./recipients";

/** How long typing must pause before the address book is asked. */
export const SUGGEST_DELAY_MS = 120;

export interface RecipientInputHandle {
  /** Turn what is typed into chips (before a send); returns the chips it leaves. */
  commit(): RecipientChip[];
  focus(): void;
}

interface RecipientInputProps {
  label: string;
  chips: readonly RecipientChip[];
  onChange: (chips: RecipientChip[]) => void;
  error?: string;
  /** Controls at the right of the field (the Cc and Bcc toggles). */
  end?: ReactNode;
}

function describeChip(chip: RecipientChip): string {
  return chip.valid ? formatRecipient(chip) : `${chip.address}: not a valid email address`;
}

/**
 * To, Cc or Bcc: recipients as chips. Comma, semicolon, Enter and Tab finish one; a paste of
 * several becomes several; Backspace in the empty field takes the last one back; text that is no
 * address stays as a red chip (click it to correct it). Suggestions come from the people the
 * user corresponds with, chosen with the arrow keys and Enter or Tab.
 */
export const RecipientInput = forwardRef<RecipientInputHandle, RecipientInputProps>(function RecipientInput(
  { label, chips, onChange, error, end },
  ref,
) {
  const [text, setTextState] = useState("");
  // The blur that follows a Tab must not commit the text the Tab already committed.
  const textRef = useRef("");
  const setText = (value: string) => {
    textRef.current = value;
    setTextState(value);
  };
  const [active, setActive] = useState(0);
  const [focused, setFocused] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const anchorRef = useRef<HTMLDivElement>(null);
  const id = useId();
  const inputId = `${id}-input`;
  const listId = `${id}-list`;
  const errorId = `${id}-error`;

  const query = useDebounced(text.trim(), SUGGEST_DELAY_MS);
  const contacts = useContacts(focused && !dismissed ? query : "");
  const suggestions = useMemo(() => {
    if (text.trim() === "") return [];
    const chosen = new Set(chips.map((chip) => chip.address.toLowerCase()));
    return (contacts.data ?? []).filter((contact) => !chosen.has(contact.address.toLowerCase())).slice(0, 8);
  }, [contacts.data, chips, text]);
  const open = focused && !dismissed && suggestions.length > 0;
  const current = open ? Math.min(active, suggestions.length - 1) : -1;

  const commitText = (value: string): RecipientChip[] => {
    const parsed = parseRecipients(value);
    setText("");
    setActive(0);
    if (parsed.length === 0) return [...chips];
    const next = addChips(chips, parsed);
    onChange(next);
    return next;
  };

  useImperativeHandle(ref, () => ({
    commit: () => (text.trim() === "" ? [...chips] : commitText(text)),
    focus: () => inputRef.current?.focus(),
  }));

  const choose = (contact: Contact) => {
    setText("");
    setActive(0);
    onChange(addChips(chips, [{ name: contact.name, address: contact.address, valid: true }]));
    inputRef.current?.focus();
  };

  const removeAt = (index: number) => {
    onChange(chips.filter((_, n) => n !== index));
    inputRef.current?.focus();
  };

  /** A red chip goes back into the field to be corrected. */
  const edit = (index: number) => {
    const chip = chips[index];
    if (chip === undefined) return;
    const pending = text.trim() ? parseRecipients(text) : [];
    onChange(addChips(chips.filter((_, n) => n !== index), pending));
    setText(formatRecipient(chip));
    inputRef.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current + step + suggestions.length) % suggestions.length);
      return;
    }
    if (open && event.key === "Escape") {
      // Closes the list only; a second Escape is the window's.
      event.preventDefault();
      event.stopPropagation();
      setDismissed(true);
      return;
    }
    if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
      const suggestion = current >= 0 ? suggestions[current] : undefined;
      // A complete address typed in full wins over a suggestion that merely starts like it.
      const typed = parseRecipients(text);
      const typedAddress = typed.length === 1 && typed[0]!.valid ? typed[0]!.address.toLowerCase() : null;
      if (suggestion && (typedAddress === null || typedAddress === suggestion.address.toLowerCase())) {
        event.preventDefault();
        choose(suggestion);
        return;
      }
      if (text.trim() !== "") {
        if (event.key === "Enter") event.preventDefault();
        commitText(text);
      }
      return;
    }
    if (event.key === "Backspace" && text === "" && chips.length > 0) {
      event.preventDefault();
      onChange(chips.slice(0, -1));
    }
  };

  const onPaste = (event: ClipboardEvent<HTMLInputElement>) => {
    const pasted = event.clipboardData.getData("text");
    if (!hasSeparator(pasted) && parseRecipients(pasted).length <= 1) return;
    event.preventDefault();
    const input = event.currentTarget;
    const start = input.selectionStart ?? text.length;
    const end = input.selectionEnd ?? text.length;
    commitText(text.slice(0, start) + pasted + text.slice(end));
  };

  const onTextChange = (value: string) => {
    setDismissed(false);
    setActive(0);
    if (hasSeparator(value)) {
      // Everything before the last separator is finished; what follows is still being typed.
      const { finished, rest } = splitFinished(value);
      const parsed = parseRecipients(finished);
      if (parsed.length > 0) onChange(addChips(chips, parsed));
      setText(rest);
      return;
    }
    setText(value);
  };

  const describedBy = error ? errorId : undefined;
  return (
    <Box>
      <Box
        ref={anchorRef}
        onClick={(event) => {
          if (event.target === event.currentTarget) inputRef.current?.focus();
        }}
        sx={{
          display: "flex",
          flexWrap: "wrap",
          alignItems: "center",
          gap: 0.5,
          minHeight: 40,
          py: 0.5,
          borderBottom: 1,
          borderColor: error ? "error.main" : "divider",
          cursor: "text",
        }}
      >
        <Typography
          component="label"
          htmlFor={inputId}
          variant="body2"
          sx={{ color: "text.secondary", minWidth: 36, pr: 0.5 }}
        >
          {label}
        </Typography>
        {chips.map((chip, index) => (
          <Tooltip key={`${chip.address}-${index}`} title={describeChip(chip)}>
            <Chip
              size="small"
              label={chipLabel(chip)}
              color={chip.valid ? "default" : "error"}
              variant={chip.valid ? "filled" : "outlined"}
              aria-label={describeChip(chip)}
              onClick={chip.valid ? undefined : () => edit(index)}
              onDelete={() => removeAt(index)}
              sx={{ maxWidth: "100%" }}
            />
          </Tooltip>
        ))}
        <Box
          component="input"
          ref={inputRef}
          id={inputId}
          value={text}
          role="combobox"
          aria-expanded={open}
          aria-controls={open ? listId : undefined}
          aria-autocomplete="list"
          aria-activedescendant={current >= 0 ? `${listId}-${current}` : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => onTextChange(event.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onFocus={() => setFocused(true)}
          onBlur={() => {
            setFocused(false);
            if (textRef.current.trim() !== "") commitText(textRef.current);
          }}
          sx={{
            flex: 1,
            minWidth: 120,
            border: 0,
            outline: 0,
            bgcolor: "transparent",
            color: "text.primary",
            font: "inherit",
            fontSize: 14,
            py: 0.5,
          }}
        />
        {end}
      </Box>
      {error && (
        <FormHelperText id={errorId} error role="alert">
          {error}
        </FormHelperText>
      )}
      <Popper
        open={open}
        anchorEl={anchorRef.current}
        placement="bottom-start"
        sx={{ zIndex: (theme) => theme.zIndex.modal + 2 }}
      >
        <Paper elevation={8} sx={{ mt: 0.5, minWidth: 280, maxWidth: 420 }}>
          <Box component="ul" role="listbox" id={listId} aria-label={`Suggestions for ${label}`} sx={{ listStyle: "none", m: 0, p: 0.5 }}>
            {suggestions.map((contact, index) => (
              <Box
                component="li"
                key={contact.address}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === current}
                onMouseDown={(event) => event.preventDefault()}
                onMouseEnter={() => setActive(index)}
                onClick={() => choose(contact)}
                sx={{
                  px: 1.5,
                  py: 0.75,
                  borderRadius: 1,
                  cursor: "pointer",
                  bgcolor: index === current ? "action.selected" : undefined,
                }}
              >
                <Typography variant="body2" noWrap sx={{ fontWeight: 500 }}>
                  {contact.name || contact.address}
                </Typography>
                {contact.name && (
                  <Typography variant="caption" noWrap component="div" sx={{ color: "text.secondary" }}>
                    {contact.address}
                  </Typography>
                )}
              </Box>
            ))}
          </Box>
        </Paper>
      </Popper>
    </Box>
  );
});
