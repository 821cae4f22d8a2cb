"use client";

import ErrorOutlineOutlined from "@mui/icons-material/ErrorOutlineOutlined";
import LoginOutlined from "@mui/icons-material/LoginOutlined";
import MoveToInboxOutlined from "@mui/icons-material/MoveToInboxOutlined";
import NotificationsOutlined from "@mui/icons-material/NotificationsOutlined";
import TaskAltOutlined from "@mui/icons-material/TaskAltOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Divider from "@mui/material/Divider";
import List from "@mui/material/List";
import ListItem from "@mui/material/ListItem";
import ListItemButton from "@mui/material/ListItemButton";
import Popover from "@mui/material/Popover";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useRouter } from "next/navigation";
import { useId, type ReactNode } from "react";

import {
  type AppNotification,
  unreadCount,
  useMarkNotificationsRead,
  type useNotifications,
} from "@/api/notifications";
import { errorMessage } from "@/api/problem";
import { formatDateTime, formatRelative } from "@/components/Security/format";

/** Only paths of this app are followed: a link is never a way off the site. */
function appPath(link: string | null): string | null {
  return link && link.startsWith("/") && !link.startsWith("//") ? link : null;
}

const visuallyHidden = {
  position: "absolute",
  width: 1,
  height: 1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
} as const;

function KindIcon({ kind }: { kind: string }) {
  const common = { fontSize: "small", "aria-hidden": true } as const;
  if (kind === "mailbox_error") return <ErrorOutlineOutlined color="error" {...common} />;
  if (kind === "import_finished") return <MoveToInboxOutlined color="primary" {...common} />;
  if (kind === "new_sign_in") return <LoginOutlined color="warning" {...common} />;
  return <NotificationsOutlined color="action" {...common} />;
}

interface RowProps {
  item: AppNotification;
  last: boolean;
  onOpen: (item: AppNotification) => void;
}

function NotificationRow({ item, last, onOpen }: RowProps) {
  const unread = item.read_at === null;
  return (
    <ListItem disablePadding divider={!last}>
      <ListItemButton
        onClick={() => onOpen(item)}
        alignItems="flex-start"
        data-testid="notification-row"
        sx={{ gap: 1.5, py: 1.25, px: 2 }}
      >
        <Box sx={{ pt: 0.25 }}>
          <KindIcon kind={item.kind} />
        </Box>
        <Box sx={{ minWidth: 0, flex: 1 }}>
          <Stack direction="row" spacing={1} sx={{ alignItems: "baseline" }}>
            <Typography
              variant="body2"
              sx={{ fontWeight: unread ? 700 : 400, flex: 1, minWidth: 0, overflowWrap: "anywhere" }}
            >
              {unread && (
                <Box component="span" sx={visuallyHidden}>
                  Unread:{" "}
                </Box>
              )}
              {item.title}
            </Typography>
            <Typography
              component="time"
              dateTime={item.created_at}
              title={formatDateTime(item.created_at)}
              variant="caption"
              color="text.secondary"
              sx={{ flexShrink: 0, fontVariantNumeric: "tabular-nums" }}
            >
              {formatRelative(item.created_at)}
            </Typography>
          </Stack>
          {item.body && (
            <Typography
              variant="body2"
              color="text.secondary"
              sx={{
                display: "-webkit-box",
                WebkitLineClamp: 3,
                WebkitBoxOrient: "vertical",
                overflow: "hidden",
                overflowWrap: "anywhere",
              }}
            >
              {item.body}
            </Typography>
          )}
        </Box>
        <Box
          aria-hidden
          data-testid={unread ? "unread-dot" : undefined}
          sx={{
            width: 8,
            height: 8,
            mt: 0.75,
            borderRadius: "50%",
            flexShrink: 0,
            bgcolor: unread ? "primary.main" : "transparent",
          }}
        />
      </ListItemButton>
    </ListItem>
  );
}

function Placeholder({ children }: { children: ReactNode }) {
  return <Box sx={{ px: 2, py: 4, textAlign: "center" }}>{children}</Box>;
}

interface NotificationPopoverProps {
  id: string;
  /** The bell's query: one observer, so opening the list does not refetch a failed load. */
  notifications: ReturnType<typeof useNotifications>;
  anchor: HTMLElement | null;
  onClose: () => void;
}

/** The bell's list: loaded when the bell is first opened (see NotificationBell). */
export function NotificationPopover({ id: popoverId, notifications, anchor, onClose: close }: NotificationPopoverProps) {
  const markRead = useMarkNotificationsRead();
  const router = useRouter();
  const titleId = useId();
  const unread = unreadCount(notifications.data);
  const items = notifications.data?.pages.flatMap((page) => page.items) ?? [];

  const open = (item: AppNotification) => {
    if (item.read_at === null) markRead.mutate({ ids: [item.id] });
    const path = appPath(item.link);
    close();
    if (path) router.push(path);
  };

  return (
    <Popover
      id={popoverId}
      open={anchor !== null}
      anchorEl={anchor}
      onClose={close}
      anchorOrigin={{ vertical: "bottom", horizontal: "right" }}
      transformOrigin={{ vertical: "top", horizontal: "right" }}
      slotProps={{
        paper: {
          role: "dialog",
          "aria-labelledby": titleId,
          sx: { width: 380, maxWidth: "calc(100vw - 16px)", display: "flex", flexDirection: "column", maxHeight: "min(560px, calc(100dvh - 80px))" },
        },
      }}
    >
      <Stack direction="row" sx={{ alignItems: "center", px: 2, py: 1, gap: 1 }}>
        <Typography id={titleId} variant="subtitle1" component="h2" sx={{ flex: 1, fontWeight: 600 }}>
          Notifications
        </Typography>
        <Button size="small" onClick={() => markRead.mutate({ all: true })} disabled={unread === 0}>
          Mark all as read
        </Button>
      </Stack>
      <Divider />
      <Box sx={{ overflowY: "auto", flex: 1 }}>
        {markRead.isError && (
          <Alert severity="error" role="alert" sx={{ m: 1 }}>
            {`Couldn't mark as read: ${errorMessage(markRead.error)}`}
          </Alert>
        )}
        {notifications.isPending && (
          <Stack spacing={1} sx={{ p: 2 }} aria-label="Loading notifications" role="status">
            {[0, 1, 2].map((n) => (
              <Skeleton key={n} variant="rounded" height={56} />
            ))}
          </Stack>
        )}
        {notifications.isError && (
          <Alert
            severity="error"
            sx={{ m: 1 }}
            action={
              <Button color="inherit" size="small" onClick={() => void notifications.refetch()}>
                Try again
              </Button>
            }
          >
            {`Couldn't load notifications. ${errorMessage(notifications.error)}`}
          </Alert>
        )}
        {notifications.isSuccess && items.length === 0 && (
          <Placeholder>
            <TaskAltOutlined color="success" aria-hidden sx={{ fontSize: 40, mb: 1 }} />
            <Typography sx={{ fontWeight: 600 }}>You&apos;re all caught up</Typography>
            <Typography variant="body2" color="text.secondary">
              Problems with a mailbox, finished imports and new sign-ins show up here.
            </Typography>
          </Placeholder>
        )}
        {items.length > 0 && (
          <List disablePadding aria-labelledby={titleId}>
            {items.map((item, index) => (
              <NotificationRow key={item.id} item={item} last={index === items.length - 1} onOpen={open} />
            ))}
          </List>
        )}
        {notifications.hasNextPage && (
          <Box sx={{ textAlign: "center", py: 1 }}>
            <Button
              size="small"
              onClick={() => void notifications.fetchNextPage()}
              disabled={notifications.isFetchingNextPage}
            >
              {notifications.isFetchingNextPage ? "Loading…" : "Show older"}
            </Button>
          </Box>
        )}
      </Box>
      <Divider />
      <Box sx={{ px: 2, py: 1 }}>
        <Button component={NextLink} href="/settings/notifications/" size="small" onClick={close}>
          Notification settings
        </Button>
      </Box>
    </Popover>
  );
}
