"use client";

import MoreVert from "@mui/icons-material/MoreVert";
import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import IconButton from "@mui/material/IconButton";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useId, useState } from "react";

import type { AdminUser } from "@/api/admin";
import { formatDateTime, formatRelative } from "@/components/Security/format";

export type UserAction = "activate" | "deactivate" | "make_admin" | "remove_admin";

interface UserRowProps {
  user: AdminUser;
  /** The signed-in admin: their own row offers no action (the server refuses them too). */
  self: boolean;
  busy: boolean;
  onAction(user: AdminUser, action: UserAction): void;
}

const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

function joined(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateOnly.format(date);
}

/** One user of the instance: who, their standing, and what the admin may change. */
export function UserRow({ user, self, busy, onAction }: UserRowProps) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const menuId = useId();
  const title = user.name || user.email;
  const choose = (action: UserAction) => {
    setAnchor(null);
    onAction(user, action);
  };

  return (
    <Box
      component="li"
      data-testid="user-row"
      aria-label={title}
      sx={{
        listStyle: "none",
        display: "flex",
        alignItems: "flex-start",
        gap: 1,
        px: { xs: 1.5, sm: 2 },
        py: 1.5,
        opacity: user.is_active ? 1 : 0.75,
      }}
    >
      <Box sx={{ flexGrow: 1, minWidth: 0 }}>
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}>
          <Typography sx={{ fontWeight: 600, overflowWrap: "anywhere" }}>{title}</Typography>
          {self && <Chip label="You" size="small" variant="outlined" />}
          {user.is_admin && <Chip label="Admin" size="small" color="primary" variant="outlined" />}
          {!user.is_active && <Chip label="Deactivated" size="small" color="warning" variant="outlined" />}
          {!user.email_verified && <Chip label="Address not confirmed" size="small" variant="outlined" />}
        </Box>
        {user.name && (
          <Typography variant="body2" color="text.secondary" sx={{ overflowWrap: "anywhere" }}>
            {user.email}
          </Typography>
        )}
        <Typography variant="body2" color="text.secondary">
          Joined {joined(user.created_at)} ·{" "}
          {user.last_seen_at ? (
            <Tooltip title={formatDateTime(user.last_seen_at)}>
              <span>last active {formatRelative(user.last_seen_at)}</span>
            </Tooltip>
          ) : (
            "no sign-in yet"
          )}
        </Typography>
      </Box>
      {!self && (
        <>
          <IconButton
            aria-label={`Actions for ${title}`}
            aria-haspopup="menu"
            aria-controls={anchor ? menuId : undefined}
            aria-expanded={anchor !== null}
            onClick={(event) => setAnchor(event.currentTarget)}
            disabled={busy}
          >
            <MoreVert />
          </IconButton>
          <Menu id={menuId} anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)}>
            {user.is_admin ? (
              <MenuItem onClick={() => choose("remove_admin")}>Remove admin rights</MenuItem>
            ) : (
              <MenuItem onClick={() => choose("make_admin")}>Make admin</MenuItem>
            )}
            {user.is_active ? (
              <MenuItem onClick={() => choose("deactivate")} sx={{ color: "error.main" }}>
                Deactivate
              </MenuItem>
            ) : (
              <MenuItem onClick={() => choose("activate")}>Reactivate</MenuItem>
            )}
          </Menu>
        </>
      )}
    </Box>
  );
}
