"use client";

import InboxOutlined from "@mui/icons-material/InboxOutlined";
import SearchOff from "@mui/icons-material/SearchOff";
import StarBorder from "@mui/icons-material/StarBorder";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";

import type { InboxSection } from "@/api/keys";

import { STARRED_QUERY, type MailLocation } from "./location";

interface EmptyListProps {
  location: MailLocation;
  title: string;
  /** The split inbox's section shown, if any. */
  section?: InboxSection;
  /** Switch the split inbox to Everything else. */
  onShowOther?: () => void;
  onClearSearch: () => void;
}

/** An empty list says why and, where there is one, offers the next step. */
export function EmptyList({ location, title, section, onShowOther, onClearSearch }: EmptyListProps) {
  let icon = <InboxOutlined sx={{ fontSize: 48 }} aria-hidden />;
  let heading = `Nothing in ${title}`;
  let detail: string | null = null;
  let action: { label: string; onClick: () => void } | null = null;
  if (location.q === STARRED_QUERY) {
    icon = <StarBorder sx={{ fontSize: 48 }} aria-hidden />;
    heading = "No starred conversations";
    detail = "Star a conversation to find it here quickly (press s on it).";
  } else if (location.q) {
    icon = <SearchOff sx={{ fontSize: 48 }} aria-hidden />;
    heading = "No conversations match your search";
    detail = "Try fewer words, or search trash and spam with in:anywhere.";
    action = { label: "Clear search", onClick: onClearSearch };
  } else if (section === "important") {
    heading = "Nothing important right now";
    detail = "Mail the assistant ranks high, and mail from senders you mark important, shows up here.";
    if (onShowOther) action = { label: "See everything else", onClick: onShowOther };
  } else if (location.folder === "inbox") {
    heading = "You’re all caught up";
    detail = "New mail shows up here as soon as it arrives.";
  }
  return (
    <Box
      role="status"
      sx={{
        flex: 1,
        display: "flex",
        flexDirection: "column",
        alignItems: "center",
        justifyContent: "center",
        gap: 1,
        p: 4,
        color: "text.secondary",
        textAlign: "center",
      }}
    >
      {icon}
      <Typography variant="h6" component="p" color="text.primary">
        {heading}
      </Typography>
      {detail && <Typography variant="body2">{detail}</Typography>}
      {action && (
        <Button variant="outlined" onClick={action.onClick} sx={{ mt: 1 }}>
          {action.label}
        </Button>
      )}
    </Box>
  );
}
