"use client";

import LogoutOutlined from "@mui/icons-material/LogoutOutlined";
import SecurityOutlined from "@mui/icons-material/SecurityOutlined";
import Divider from "@mui/material/Divider";
import ListItemIcon from "@mui/material/ListItemIcon";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import type { useMe } from "@/api/users";

interface AccountMenuProps {
  menuId: string;
  anchor: HTMLElement | null;
  user: ReturnType<typeof useMe>["data"];
  close: () => void;
  onSignOut: () => void;
}

/** The account menu's items: loaded when the avatar is first clicked (see UserMenu). */
export function AccountMenu({ menuId, anchor, user, close, onSignOut }: AccountMenuProps) {
  return (
    <Menu
      id={menuId}
      anchorEl={anchor}
      open={anchor !== null}
      onClose={close}
      anchorOrigin={{ vertical: "bottom", horizontal: "right" }}
      transformOrigin={{ vertical: "top", horizontal: "right" }}
    >
      <MenuItem disabled sx={{ display: "block", opacity: "1 !important", maxWidth: 280 }}>
        <Typography sx={{ fontWeight: 600 }} noWrap data-testid="user-name">
          {user ? user.name || user.email : "Loading…"}
        </Typography>
        {user?.name && (
          <Typography variant="body2" color="text.secondary" noWrap>
            {user.email}
          </Typography>
        )}
      </MenuItem>
      <Divider />
      <MenuItem component={NextLink} href="/settings/security/" onClick={close}>
        <ListItemIcon>
          <SecurityOutlined fontSize="small" />
        </ListItemIcon>
        Security
      </MenuItem>
      <MenuItem onClick={onSignOut}>
        <ListItemIcon>
          <LogoutOutlined fontSize="small" />
        </ListItemIcon>
        Sign out
      </MenuItem>
    </Menu>
  );
}
