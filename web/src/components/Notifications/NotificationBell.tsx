"use client";

import NotificationsNoneOutlined from "@mui/icons-material/NotificationsNoneOutlined";
import NotificationsOutlined from "@mui/icons-material/NotificationsOutlined";
import Badge from "@mui/material/Badge";
import Box from "@mui/material/Box";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";
import { lazy, Suspense, useId, useState } from "react";

import { unreadCount, useNotifications } from "@/api/notifications";
import { useOpenedOnce, usePreloadOnIdle } from "@/components/lazy/lazy";

// Lazy: the list (MUI Popover, List, Alert) opens on demand; the bell and its badge stay eager.
const loadPopover = () => import("./NotificationPopover");
const NotificationPopover = lazy(() => loadPopover().then((m) => ({ default: m.NotificationPopover })));

/** The accessible name of the bell: what it is and how many need attention. */
export function bellLabel(unread: number): string {
  return unread > 0 ? `Notifications, ${unread} unread` : "Notifications";
}

const visuallyHidden = {
  position: "absolute",
  width: 1,
  height: 1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
} as const;

/**
 * The bell in the top bar: the unread count on a badge, and a list of what the user must see
 * (a mailbox that stopped syncing, a finished import, a new sign-in). Opening one marks it
 * read and goes where it points.
 */
export function NotificationBell() {
  const notifications = useNotifications();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const popoverId = useId();
  const unread = unreadCount(notifications.data);
  const close = () => setAnchor(null);
  const used = useOpenedOnce(anchor !== null);
  usePreloadOnIdle(loadPopover);

  return (
    <>
      <Tooltip title="Notifications" describeChild>
        <IconButton
          aria-controls={anchor ? popoverId : undefined}
          aria-haspopup="dialog"
          aria-expanded={anchor !== null}
          onClick={(event) => setAnchor(event.currentTarget)}
        >
          {/* The name is this hidden text, not an aria-label: the badge's visible number must
              be part of the name (WCAG 2.5.3), and the badge itself would read "99+". */}
          <Box component="span" sx={visuallyHidden}>{bellLabel(unread)}</Box>
          <Badge badgeContent={unread} max={99} color="error" overlap="circular" aria-hidden>
            {unread > 0 ? <NotificationsOutlined /> : <NotificationsNoneOutlined />}
          </Badge>
        </IconButton>
      </Tooltip>
      {used && (
        <Suspense fallback={null}>
          <NotificationPopover id={popoverId} notifications={notifications} anchor={anchor} onClose={close} />
        </Suspense>
      )}
    </>
  );
}
