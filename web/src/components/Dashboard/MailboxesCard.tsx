import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import type { Dashboard, MailboxStatus } from "@/api/dashboard";

import { DashCard } from "./DashCard";
import { formatAgo, formatBytes, plural } from "./format";

type ChipColor = "default" | "success" | "info" | "error";

function state(mailbox: MailboxStatus): { label: string; color: ChipColor } {
  if (mailbox.kind === "local") return { label: mailbox.is_demo ? "Demo" : "Imported", color: "default" };
  switch (mailbox.sync_state) {
    case "idle":
      return { label: "Up to date", color: "success" };
    case "syncing":
      return { label: "Syncing", color: "info" };
    case "initial":
      return { label: "First sync", color: "info" };
    case "error":
      return { label: "Needs attention", color: "error" };
  }
}

function lastSync(mailbox: MailboxStatus): string | undefined {
  if (mailbox.kind === "local") return undefined;
  return mailbox.last_synced_at ? `Synced ${formatAgo(mailbox.last_synced_at)}` : "Not synced yet";
}

/** Each mailbox's sync state, last sync, trouble, and the mail it stores. */
export function MailboxesCard({ data }: { data: Dashboard }) {
  const mailboxes = data.mailboxes;
  const bytes = mailboxes.reduce((sum, mailbox) => sum + mailbox.storage_bytes, 0);
  const messages = mailboxes.reduce((sum, mailbox) => sum + mailbox.message_count, 0);

  return (
    <DashCard
      id="mailboxes"
      title="Mailboxes"
      figure={formatBytes(bytes)}
      caption={`stored for ${plural(messages, "message", "messages")} in ${plural(mailboxes.length, "mailbox", "mailboxes")}`}
      action={
        <Button component={NextLink} href="/settings/mailboxes/" size="small">
          Manage mailboxes
        </Button>
      }
    >
      <Box component="ul" aria-label="Mailboxes" sx={{ listStyle: "none", p: 0, m: 0, mt: 1 }}>
        {mailboxes.map((mailbox) => {
          const { label, color } = state(mailbox);
          const synced = lastSync(mailbox);
          return (
            <Box
              component="li"
              key={mailbox.id}
              data-testid="mailbox-row"
              sx={{
                py: 1.25,
                display: "grid",
                gap: 0.5,
                gridTemplateColumns: { xs: "1fr", sm: "minmax(0, 1fr) auto" },
                alignItems: "center",
                "& + &": { borderTop: 1, borderColor: "divider" },
              }}
            >
              <Box sx={{ minWidth: 0 }}>
                <Stack direction="row" spacing={1} sx={{ alignItems: "center", minWidth: 0 }}>
                  <Typography noWrap sx={{ fontWeight: 500, minWidth: 0 }}>
                    {mailbox.display_name || mailbox.email}
                  </Typography>
                  <Chip label={label} color={color} size="small" variant="outlined" />
                </Stack>
                <Typography variant="body2" color="text.secondary" noWrap>
                  {[mailbox.display_name ? mailbox.email : undefined, synced].filter(Boolean).join(" · ")}
                </Typography>
                {mailbox.sync_state === "error" && mailbox.last_error && (
                  <Typography variant="body2" color="error" sx={{ overflowWrap: "anywhere" }}>
                    {mailbox.last_error}
                  </Typography>
                )}
              </Box>
              <Typography
                variant="body2"
                color="text.secondary"
                sx={{ textAlign: { sm: "right" }, fontVariantNumeric: "tabular-nums", whiteSpace: "nowrap" }}
              >
                {plural(mailbox.message_count, "message", "messages")} · {formatBytes(mailbox.storage_bytes)}
              </Typography>
            </Box>
          );
        })}
      </Box>
    </DashCard>
  );
}
