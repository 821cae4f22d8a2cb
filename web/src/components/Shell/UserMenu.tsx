"use client";

import LogoutOutlined from "@mui/icons-material/LogoutOutlined";
import SecurityOutlined from "@mui/icons-material/SecurityOutlined";
import Avatar from "@mui/material/Avatar";
import Divider from "@mui/material/Divider";
import IconButton from "@mui/material/IconButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useId, useState } from "react";

import { useMe } from "@/api/users";
import { useAuth } from "@/auth/AuthProvider";
import { visuallyHidden } from "@/components/Mail/listStyles";

function initials(name: string | null | undefined, email: string | undefined): string {
  const source = name?.trim() || email || "";
  const parts = source.split(/[\s@._-]+/).filter(Boolean);
  const letters = parts.length > 1 ? `${parts[0]?.[0] ?? ""}${parts[1]?.[0] ?? ""}` : source.slice(0, 1);
  return letters.toUpperCase() || "?";
}

/** The avatar in the top bar: who is signed in, account links and sign-out. */
export function UserMenu() {
  const me = useMe();
  const { signOut } = useAuth();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const menuId = useId();
  const close = () => setAnchor(null);
  const user = me.data;

  const onSignOut = async () => {
    setSigningOut(true);
    close();
    await signOut();
  };

  return (
    <>
      <IconButton
        aria-controls={anchor ? menuId : undefined}
        aria-haspopup="menu"
        aria-expanded={anchor !== null}
        onClick={(event) => setAnchor(event.currentTarget)}
        disabled={signingOut}
        sx={{ ml: 1 }}
      >
        {/* Named by hidden text rather than aria-label, so the initials shown are not a
            visible label missing from the name (WCAG 2.5.3). */}
        <span style={visuallyHidden}>Account menu</span>
        <Avatar aria-hidden sx={{ width: 32, height: 32, fontSize: 14, bgcolor: "primary.main" }}>
          {initials(user?.name, user?.email)}
        </Avatar>
      </IconButton>
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
    </>
  );
}
