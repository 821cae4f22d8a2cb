"use client";

import Divider from "@mui/material/Divider";
import List from "@mui/material/List";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Link from "next/link";
import { usePathname } from "next/navigation";

import { isActive, mailNav, settingsNav, type NavEntry } from "./navigation";

interface NavListProps {
  /** Called after an entry is chosen, e.g. to close the mobile drawer. */
  onNavigate?: () => void;
}

export function NavList({ onNavigate }: NavListProps) {
  const pathname = usePathname();

  const item = ({ label, href, icon: Icon }: NavEntry) => {
    const active = isActive(href, pathname);
    return (
      <ListItemButton
        key={href}
        component={Link}
        href={href}
        selected={active}
        aria-current={active ? "page" : undefined}
        onClick={onNavigate}
        sx={{ borderRadius: 2, mx: 1 }}
      >
        <ListItemIcon sx={{ minWidth: 40 }}>
          <Icon fontSize="small" />
        </ListItemIcon>
        <ListItemText primary={label} />
      </ListItemButton>
    );
  };

  return (
    <List component="nav" aria-label="Folders" sx={{ py: 1 }}>
      {mailNav.map(item)}
      <Divider sx={{ my: 1 }} />
      {item(settingsNav)}
    </List>
  );
}
