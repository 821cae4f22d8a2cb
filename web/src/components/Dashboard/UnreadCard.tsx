import Box from "@mui/material/Box";
import List from "@mui/material/List";
import ListItem from "@mui/material/ListItem";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemText from "@mui/material/ListItemText";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import type { Dashboard, FolderUnread } from "@/api/dashboard";

import { DashCard } from "./DashCard";
import { formatCount, plural } from "./format";

const VISUALLY_HIDDEN = {
  position: "absolute",
  width: 1,
  height: 1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
} as const;

const ROLE_NAMES: Record<string, string> = {
  inbox: "Inbox",
  sent: "Sent",
  drafts: "Drafts",
  trash: "Trash",
  junk: "Spam",
  archive: "Archive",
};

function folderName(folder: FolderUnread): string {
  return (folder.role && ROLE_NAMES[folder.role]) || folder.folder;
}

/** Where the unread mail is, most first; each row opens that folder. */
export function UnreadCard({ data }: { data: Dashboard }) {
  const folders = data.unread;
  const severalMailboxes = new Set(folders.map((folder) => folder.account_id)).size > 1;

  return (
    <DashCard
      id="unread"
      title="Unread"
      figure={formatCount(data.unread_total)}
      caption={
        folders.length > 0
          ? `unread in ${plural(folders.length, "folder", "folders")}`
          : "Nothing unread. You are all caught up."
      }
    >
      {folders.length > 0 && (
        <List dense disablePadding aria-label="Unread mail per folder" sx={{ mt: 1 }}>
          {folders.map((folder) => (
            <ListItem key={folder.folder_id} disablePadding>
              <ListItemButton
                component={NextLink}
                href={`/?folder=${encodeURIComponent(folder.folder_id)}`}
                sx={{ borderRadius: 1, px: 1 }}
              >
                <ListItemText
                  primary={folderName(folder)}
                  secondary={severalMailboxes ? folder.mailbox : undefined}
                  slotProps={{ primary: { noWrap: true }, secondary: { noWrap: true } }}
                  sx={{ minWidth: 0 }}
                />
                <Typography component="span" sx={{ fontWeight: 600, fontVariantNumeric: "tabular-nums", pl: 2 }}>
                  {formatCount(folder.unread)}
                  <Box component="span" sx={VISUALLY_HIDDEN}>
                    {" unread"}
                  </Box>
                </Typography>
              </ListItemButton>
            </ListItem>
          ))}
        </List>
      )}
    </DashCard>
  );
}
