import List from "@mui/material/List";
import ListItem from "@mui/material/ListItem";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemText from "@mui/material/ListItemText";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import type { Dashboard, WaitingThread } from "@/api/dashboard";

import { DashCard } from "./DashCard";
import { formatCount, plural } from "./format";

function recipients(thread: WaitingThread): string {
  const names = thread.to.map((person) => person.name || person.address).filter(Boolean);
  if (names.length === 0) return "";
  return names.length > 2 ? `${names.slice(0, 2).join(", ")} +${names.length - 2}` : names.join(", ");
}

/** Conversations where you wrote last and nobody has answered for a few days; each opens the thread. */
export function WaitingCard({ data }: { data: Dashboard }) {
  const { count, threads, after_days: afterDays } = data.waiting;

  return (
    <DashCard
      id="waiting"
      title="Waiting for a reply"
      figure={formatCount(count)}
      caption={
        count > 0
          ? `${count === 1 ? "conversation" : "conversations"} where you wrote last, with no answer for ${afterDays} days or more`
          : `Nobody has left you waiting more than ${afterDays} days in the last ${data.days} days.`
      }
    >
      {threads.length > 0 && (
        <List dense disablePadding aria-label="Conversations waiting for a reply" sx={{ mt: 1 }}>
          {threads.map((thread) => {
            const to = recipients(thread);
            const waited = plural(thread.days_waiting, "day", "days");
            return (
              <ListItem key={thread.thread_id} disablePadding>
                <ListItemButton
                  component={NextLink}
                  href={`/?thread=${encodeURIComponent(thread.thread_id)}`}
                  sx={{ borderRadius: 1, px: 1, alignItems: "flex-start" }}
                >
                  <ListItemText
                    primary={thread.subject || "(no subject)"}
                    secondary={to ? `To ${to}` : undefined}
                    slotProps={{ primary: { noWrap: true }, secondary: { noWrap: true } }}
                    sx={{ minWidth: 0, my: 0.25 }}
                  />
                  <Typography
                    component="span"
                    variant="body2"
                    color="text.secondary"
                    sx={{ pl: 2, pt: 0.25, whiteSpace: "nowrap", fontVariantNumeric: "tabular-nums" }}
                  >
                    {waited}
                  </Typography>
                </ListItemButton>
              </ListItem>
            );
          })}
        </List>
      )}
      {count > threads.length && (
        <Typography variant="body2" color="text.secondary" sx={{ mt: 1, px: 1 }}>
          The {formatCount(threads.length)} that have waited longest.
        </Typography>
      )}
    </DashCard>
  );
}
