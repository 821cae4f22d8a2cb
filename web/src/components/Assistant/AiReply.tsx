"use client";

import AutoAwesomeOutlined from "@mui/icons-material/AutoAwesomeOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import FormControl from "@mui/material/FormControl";
import FormControlLabel from "@mui/material/FormControlLabel";
import FormLabel from "@mui/material/FormLabel";
import LinearProgress from "@mui/material/LinearProgress";
import Paper from "@mui/material/Paper";
import Popover from "@mui/material/Popover";
import Radio from "@mui/material/Radio";
import RadioGroup from "@mui/material/RadioGroup";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { useEffect, useId, useRef, useState, type FormEvent, type ReactElement } from "react";

import type { AiDraftState, Tone } from "@/api/ai";

export const TONES: readonly { value: Tone; label: string }[] = [
  { value: "neutral", label: "Neutral" },
  { value: "friendly", label: "Friendly" },
  { value: "formal", label: "Formal" },
  { value: "brief", label: "Brief" },
];

const INSTRUCTION_MAX = 500;

export interface AiReplyChoice {
  tone: Tone;
  instruction: string;
}

interface AiReplyOptionsProps {
  anchor: HTMLElement | null;
  onClose: () => void;
  onWrite: (choice: AiReplyChoice) => void;
}

/** The tone and what to say: a small form under the "AI reply" button. */
export function AiReplyOptions({ anchor, onClose, onWrite }: AiReplyOptionsProps) {
  const [tone, setTone] = useState<Tone>("neutral");
  const [instruction, setInstruction] = useState("");
  const toneId = useId();
  const titleId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onWrite({ tone, instruction: instruction.trim() });
  };
  return (
    <Popover
      open={anchor !== null}
      anchorEl={anchor}
      onClose={onClose}
      anchorOrigin={{ vertical: "bottom", horizontal: "left" }}
      transformOrigin={{ vertical: "top", horizontal: "left" }}
      slotProps={{ paper: { role: "dialog", "aria-labelledby": titleId, sx: { p: 2, width: 340, maxWidth: "calc(100vw - 32px)" } } }}
    >
      <form onSubmit={submit}>
        <Typography id={titleId} variant="subtitle1" component="h2" sx={{ fontWeight: 600 }}>
          Write a reply with the assistant
        </Typography>
        <FormControl sx={{ mt: 1 }}>
          <FormLabel id={toneId}>Tone</FormLabel>
          <RadioGroup row aria-labelledby={toneId} value={tone} onChange={(event) => setTone(event.target.value as Tone)}>
            {TONES.map((choice) => (
              <FormControlLabel key={choice.value} value={choice.value} control={<Radio size="small" />} label={choice.label} />
            ))}
          </RadioGroup>
        </FormControl>
        <TextField
          autoFocus
          fullWidth
          multiline
          minRows={2}
          size="small"
          label="What to say (optional)"
          placeholder="e.g. decline politely, suggest Tuesday"
          value={instruction}
          onChange={(event) => setInstruction(event.target.value.slice(0, INSTRUCTION_MAX))}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
          }}
          helperText="Enter writes the reply; Shift+Enter starts a new line."
          sx={{ mt: 1 }}
        />
        <Stack direction="row" spacing={1} sx={{ mt: 2, justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="contained" startIcon={<AutoAwesomeOutlined />}>
            Write reply
          </Button>
        </Stack>
      </form>
    </Popover>
  );
}

interface AiReplyButtonProps {
  onWrite: (choice: AiReplyChoice) => void;
  /** The button itself, when the place calls for another look (an icon in a window's header). */
  render?: (open: (anchor: HTMLElement) => void) => ReactElement;
}

/** "AI reply": asks for a tone and an optional instruction, then hands them on. */
export function AiReplyButton({ onWrite, render }: AiReplyButtonProps) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  return (
    <>
      {render ? (
        render(setAnchor)
      ) : (
        <Button
          variant="outlined"
          startIcon={<AutoAwesomeOutlined />}
          aria-haspopup="dialog"
          onClick={(event) => setAnchor(event.currentTarget)}
        >
          AI reply
        </Button>
      )}
      {anchor !== null && (
        <AiReplyOptions
          anchor={anchor}
          onClose={() => setAnchor(null)}
          onWrite={(choice) => {
            setAnchor(null);
            onWrite(choice);
          }}
        />
      )}
    </>
  );
}

interface AiReplyPanelProps {
  state: AiDraftState;
  onStop: () => void;
  /** Open the draft a failed run left (it keeps what was written). */
  onOpen: () => void;
  onRetry: () => void;
  /** Drawn over a compose window rather than in the page. */
  overlay?: boolean;
}

/**
 * The reply as the assistant writes it, word by word, where the composer will be; the composer
 * takes its place once the draft is saved.
 */
export function AiReplyPanel({ state, onStop, onOpen, onRetry, overlay = false }: AiReplyPanelProps) {
  const titleId = useId();
  const frame = useRef<HTMLDivElement>(null);
  const writing = state.phase === "writing";
  // Under a thread, the reply comes into view where the composer will open, as Reply does.
  useEffect(() => {
    if (!overlay) frame.current?.scrollIntoView?.({ block: "nearest" });
  }, [overlay]);
  const tone = state.tone ? TONES.find((choice) => choice.value === state.tone)?.label : undefined;
  return (
    <Paper
      ref={frame}
      variant="outlined"
      role="region"
      aria-labelledby={titleId}
      aria-busy={writing}
      sx={{
        display: "flex",
        flexDirection: "column",
        overflow: "hidden",
        ...(overlay ? { position: "absolute", inset: 0, zIndex: 2, borderRadius: "inherit" } : { mt: 2 }),
      }}
    >
      <Box sx={{ display: "flex", alignItems: "center", gap: 1, px: 2, minHeight: 40, borderBottom: 1, borderColor: "divider" }}>
        <AutoAwesomeOutlined fontSize="small" color="primary" aria-hidden />
        <Typography id={titleId} component="h2" variant="subtitle2" sx={{ flex: 1 }}>
          {tone ? `AI reply · ${tone}` : "AI reply"}
        </Typography>
        {writing && (
          <Button size="small" onClick={onStop}>
            Stop
          </Button>
        )}
      </Box>
      {writing && <LinearProgress aria-hidden sx={{ height: 2 }} />}
      <Typography role="status" variant="caption" color="text.secondary" sx={{ px: 2, pt: 1 }}>
        {writing ? (state.text ? "Writing…" : "Reading the conversation…") : state.phase === "done" ? "Done." : ""}
      </Typography>
      <Box
        data-testid="ai-reply-text"
        sx={{
          px: 2,
          py: 1,
          minHeight: 120,
          flex: overlay ? 1 : undefined,
          overflowY: "auto",
          whiteSpace: "pre-wrap",
          overflowWrap: "anywhere",
          fontSize: 15,
          lineHeight: 1.5,
          color: "text.primary",
        }}
      >
        {state.text}
        {writing && (
          <Box
            component="span"
            aria-hidden
            sx={{ display: "inline-block", width: "0.5em", height: "1.1em", ml: 0.25, verticalAlign: "text-bottom", bgcolor: "primary.main", opacity: 0.6 }}
          />
        )}
      </Box>
      {state.phase === "failed" && (
        <Alert
          severity="warning"
          sx={{ m: 1 }}
          action={
            <Stack direction="row" spacing={0.5}>
              {state.draft !== null && (
                <Button color="inherit" size="small" onClick={onOpen}>
                  Open draft
                </Button>
              )}
              <Button color="inherit" size="small" onClick={onRetry}>
                Try again
              </Button>
              <Button color="inherit" size="small" onClick={onStop}>
                Discard
              </Button>
            </Stack>
          }
        >
          {state.error}
        </Alert>
      )}
    </Paper>
  );
}
