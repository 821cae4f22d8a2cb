"use client";

import ShieldOutlined from "@mui/icons-material/ShieldOutlined";
import WarningAmberOutlined from "@mui/icons-material/WarningAmberOutlined";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import List from "@mui/material/List";
import ListItem from "@mui/material/ListItem";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Skeleton from "@mui/material/Skeleton";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";

import { useSecurityEvents } from "@/api/events";
import { errorMessage } from "@/api/problem";

import { eventLabel } from "./eventLabels";
import { formatDateTime, formatRelative } from "./format";
import { SectionCard } from "./SectionCard";
import { describeUserAgent } from "./userAgent";

/** The account's recent security activity, newest first. */
export function SecurityEventsCard() {
  const events = useSecurityEvents();
  const items = events.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <SectionCard
      id="security-events"
      title="Recent security activity"
      description="Sign-ins, password and two-factor changes on this account."
    >
      {events.isPending && <Skeleton variant="rounded" height={160} />}
      {events.isError && <Alert severity="error">{errorMessage(events.error)}</Alert>}
      {events.isSuccess && items.length === 0 && (
        <Typography color="text.secondary">No activity recorded yet.</Typography>
      )}
      {items.length > 0 && (
        <List dense disablePadding aria-label="Security events">
          {items.map((event) => {
            const { label, tone } = eventLabel(event.type);
            const where = [describeUserAgent(event.user_agent), event.ip].filter(Boolean).join(" · ");
            return (
              <ListItem key={event.id} disableGutters data-event-type={event.type}>
                <ListItemIcon sx={{ minWidth: 36 }}>
                  {tone === "warning" ? (
                    <WarningAmberOutlined fontSize="small" color="warning" titleAccess="Attention" />
                  ) : (
                    <ShieldOutlined fontSize="small" color="action" aria-hidden />
                  )}
                </ListItemIcon>
                <ListItemText
                  primary={label}
                  secondary={
                    <>
                      <Tooltip title={formatDateTime(event.created_at)}>
                        <time dateTime={event.created_at}>{formatRelative(event.created_at)}</time>
                      </Tooltip>
                      {where && ` · ${where}`}
                    </>
                  }
                />
              </ListItem>
            );
          })}
        </List>
      )}
      {events.hasNextPage && (
        <Button
          onClick={() => void events.fetchNextPage()}
          loading={events.isFetchingNextPage}
          sx={{ mt: 1 }}
        >
          Show older activity
        </Button>
      )}
    </SectionCard>
  );
}
