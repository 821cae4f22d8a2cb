"use client";

import Check from "@mui/icons-material/Check";
import LabelImportant from "@mui/icons-material/LabelImportant";
import LabelImportantOutlined from "@mui/icons-material/LabelImportantOutlined";
import ReplyOutlined from "@mui/icons-material/ReplyOutlined";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import Snackbar from "@mui/material/Snackbar";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useId, useState, type MouseEvent } from "react";

import { useAiFeedback, type Category, type FeedbackInput } from "@/api/ai";
import type { Message } from "@/api/thread";

import { CATEGORIES, categoryLabel } from "./categories";

const BUCKET_WORDS: Record<string, string> = { high: "High priority", medium: "Medium priority", low: "Low priority" };

function savedWords(input: FeedbackInput): string {
  if (input.category !== undefined) return `Filed under ${categoryLabel(input.category)}. Mail like it will be too.`;
  return input.important
    ? "Marked important. Mail like this will rank higher."
    : "Marked not important. Mail like this will rank lower.";
}

/** The priority marker: "Important" (or the bucket), with the reasons in words on hover or focus. */
function PriorityMarker({ message }: { message: Message }) {
  const important = message.important === true;
  const words = important ? "Important" : message.priority_bucket ? BUCKET_WORDS[message.priority_bucket] : undefined;
  if (words === undefined) return null;
  const reasons = message.reasons ?? [];
  const tip =
    reasons.length > 0 ? (
      <Box component="ul" sx={{ m: 0, pl: 2 }}>
        {reasons.map((reason, index) => (
          <li key={index}>{reason}</li>
        ))}
      </Box>
    ) : (
      "No particular reason: the assistant has little to go on yet."
    );
  return (
    <Tooltip title={tip} describeChild>
      <Box
        component="span"
        tabIndex={0}
        data-testid="priority-marker"
        sx={{
          display: "inline-flex",
          alignItems: "center",
          gap: 0.5,
          px: 0.75,
          borderRadius: 1,
          typography: "body2",
          fontWeight: important ? 600 : 400,
          // The words in text colours (warning.dark on white is 3.8:1, under AA); the icon carries the colour.
          color: important ? "text.primary" : "text.secondary",
          cursor: "help",
          "&:focus-visible": { outline: 2, outlineStyle: "solid", outlineColor: "primary.main" },
        }}
      >
        {important ? (
          <LabelImportant fontSize="small" sx={{ color: "warning.main" }} aria-hidden />
        ) : (
          <LabelImportantOutlined fontSize="small" aria-hidden />
        )}
        {words}
      </Box>
    </Tooltip>
  );
}

const tag = {
  px: 0.75,
  borderRadius: 1,
  typography: "body2",
  bgcolor: "action.selected",
  color: "text.primary",
  whiteSpace: "nowrap",
} as const;

/**
 * What the assistant made of one message (priority with its reasons, category, needs a reply)
 * and the user's word on it: important or not, another category. The change shows at once; a
 * refusal takes it back and says so.
 */
export function MessageInsight({ message }: { message: Message }) {
  const [menu, setMenu] = useState<HTMLElement | null>(null);
  const [notice, setNotice] = useState<{ key: number; text: string } | null>(null);
  const menuId = useId();
  const say = (text: string) => setNotice({ key: Date.now(), text });
  const feedback = useAiFeedback({
    onSaved: (input) => say(savedWords(input)),
    onError: (text) => say(`Couldn’t save that. ${text}`),
  });
  if (message.is_draft) return null;

  const send = (change: Pick<FeedbackInput, "important" | "category">) =>
    feedback.mutate({ messageId: message.id, threadId: message.thread_id, ...change });
  const choose = (category: Category) => {
    setMenu(null);
    if (category !== message.category) send({ category });
  };

  return (
    <Box
      role="group"
      aria-label="Assistant"
      sx={{ display: "flex", alignItems: "center", flexWrap: "wrap", gap: 1, mt: 1.5, ml: { xs: 0, sm: 6.5 } }}
    >
      <PriorityMarker message={message} />
      {message.category && <Box component="span" sx={tag}>{categoryLabel(message.category)}</Box>}
      {message.needs_reply && (
        <Box component="span" sx={{ ...tag, display: "inline-flex", alignItems: "center", gap: 0.5, bgcolor: "transparent", color: "primary.main" }}>
          <ReplyOutlined fontSize="small" aria-hidden />
          Needs a reply
        </Box>
      )}
      <Box sx={{ display: "flex", alignItems: "center", gap: 0.5, ml: "auto", "& .MuiButton-root": { textTransform: "none", minWidth: 0 } }}>
        <Button size="small" aria-pressed={message.important === true} onClick={() => send({ important: true })}>
          Important
        </Button>
        <Button size="small" aria-pressed={message.important === false} onClick={() => send({ important: false })}>
          Not important
        </Button>
        <Button
          size="small"
          aria-haspopup="menu"
          aria-expanded={menu !== null}
          aria-controls={menu !== null ? menuId : undefined}
          onClick={(event: MouseEvent<HTMLElement>) => setMenu(event.currentTarget)}
        >
          Change category
        </Button>
      </Box>
      <Menu id={menuId} anchorEl={menu} open={menu !== null} onClose={() => setMenu(null)}>
        {CATEGORIES.map((category) => {
          const current = category === message.category;
          return (
            <MenuItem key={category} selected={current} onClick={() => choose(category as Category)}>
              <ListItemIcon>{current && <Check fontSize="small" />}</ListItemIcon>
              <ListItemText>{categoryLabel(category)}</ListItemText>
            </MenuItem>
          );
        })}
      </Menu>
      <Snackbar
        key={notice?.key}
        open={notice !== null}
        autoHideDuration={5_000}
        onClose={(_, reason) => reason !== "clickaway" && setNotice(null)}
        message={<Typography variant="body2">{notice?.text}</Typography>}
      />
    </Box>
  );
}
