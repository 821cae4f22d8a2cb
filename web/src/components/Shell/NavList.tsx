"use client";

import ExpandLess from "@mui/icons-material/ExpandLess";
import ExpandMore from "@mui/icons-material/ExpandMore";
import FolderOutlined from "@mui/icons-material/FolderOutlined";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Collapse from "@mui/material/Collapse";
import Divider from "@mui/material/Divider";
import IconButton from "@mui/material/IconButton";
import List from "@mui/material/List";
import ListItem from "@mui/material/ListItem";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Skeleton from "@mui/material/Skeleton";
import Typography from "@mui/material/Typography";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState, type ReactNode } from "react";

import { useAccounts } from "@/api/accounts";
import { useFolders } from "@/api/mail";
import { useDraftList, useOutbox } from "@/api/outbox";
import { useMe } from "@/api/users";
import { folderCount, type FolderNode } from "@/components/Mail/folderTree";
import { visuallyHidden } from "@/components/Mail/listStyles";
import { mailHref, type MailLocation } from "@/components/Mail/location";

import {
  adminEntry,
  appEntries,
  entryCount,
  folderLocation,
  isCurrentMail,
  isWithin,
  mailboxSections,
  mailEntries,
  type NavEntry,
} from "./navigation";

interface NavListProps {
  /** Where the mail view is; null on other pages (or before the address is read). */
  current: MailLocation | null;
  /** Called after an entry is chosen, e.g. to close the mobile drawer. */
  onNavigate?: () => void;
}

const COLLAPSED_KEY = "postwise.nav.collapsed";

function readCollapsed(): Set<string> {
  try {
    const stored: unknown = JSON.parse(window.localStorage.getItem(COLLAPSED_KEY) ?? "[]");
    return new Set(Array.isArray(stored) ? stored.filter((item): item is string => typeof item === "string") : []);
  } catch {
    return new Set();
  }
}

/** Folded parts of the tree, remembered in this browser. */
function useCollapsed(): [ReadonlySet<string>, (key: string) => void] {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(readCollapsed);
  const toggle = (key: string) =>
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      try {
        window.localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...next]));
      } catch {
        // Not remembered; still folded for now.
      }
      return next;
    });
  return [collapsed, toggle];
}

function Count({ value, strong }: { value: number; strong: boolean }) {
  if (value <= 0) return null;
  // Part of the link's name ("Inbox 3 unread"): a name from the visible text, not an
  // aria-label, keeps what is seen and what is spoken the same (WCAG 2.5.3).
  return (
    <Typography
      component="span"
      sx={{ ml: 1, fontSize: 13, fontWeight: strong ? 700 : 400, fontVariantNumeric: "tabular-nums", color: strong ? "text.primary" : "text.secondary" }}
    >
      {value.toLocaleString()}
      {strong && <span style={{ ...visuallyHidden, display: "inline-block" }}>unread</span>}
    </Typography>
  );
}

interface ItemProps {
  label: string;
  href: string;
  icon: ReactNode;
  active: boolean;
  count?: number;
  /** "unread" (bold) or "total" (plain) for the count's meaning. */
  countKind?: "unread" | "total";
  depth?: number;
  onNavigate?: () => void;
  /** A fold toggle shown before the count, for folders with subfolders. */
  toggle?: ReactNode;
}

function NavItem({ label, href, icon, active, count = 0, countKind = "unread", depth = 0, onNavigate, toggle }: ItemProps) {
  return (
    <ListItem disablePadding secondaryAction={toggle} sx={{ "& .MuiListItemSecondaryAction-root": { right: 12 } }}>
      <ListItemButton
        component={Link}
        href={href}
        selected={active}
        aria-current={active ? "page" : undefined}
        onClick={onNavigate}
        dense
        sx={{ borderRadius: 2, mx: 1, pl: 2 + depth * 1.5, pr: toggle ? 5 : 1.5, minHeight: 36 }}
      >
        <ListItemIcon sx={{ minWidth: 32 }}>{icon}</ListItemIcon>
        <ListItemText
          primary={label}
          slotProps={{ primary: { noWrap: true, sx: { fontSize: 14, fontWeight: count > 0 && countKind === "unread" ? 700 : 400 } } }}
        />
        <Count value={count} strong={countKind === "unread"} />
      </ListItemButton>
    </ListItem>
  );
}

function FolderTree({
  nodes,
  depth,
  current,
  collapsed,
  onToggle,
  onNavigate,
}: {
  nodes: readonly FolderNode[];
  depth: number;
  current: MailLocation | null;
  collapsed: ReadonlySet<string>;
  onToggle: (key: string) => void;
  onNavigate?: () => void;
}) {
  return (
    <>
      {nodes.map((node) => {
        const open = !collapsed.has(node.key);
        const toggle =
          node.children.length > 0 ? (
            <IconButton
              size="small"
              aria-label={open ? `Fold ${node.label}` : `Unfold ${node.label}`}
              aria-expanded={open}
              onClick={() => onToggle(node.key)}
            >
              {open ? <ExpandLess fontSize="small" /> : <ExpandMore fontSize="small" />}
            </IconButton>
          ) : undefined;
        const folder = node.folder;
        return (
          <Box component="li" key={node.key} sx={{ listStyle: "none" }}>
            <List disablePadding>
              {folder?.selectable ? (
                <NavItem
                  label={node.label}
                  href={mailHref(folderLocation(folder))}
                  icon={<FolderOutlined fontSize="small" />}
                  active={isCurrentMail(folderLocation(folder), current)}
                  count={folderCount(folder)}
                  countKind={folder.role === "drafts" ? "total" : "unread"}
                  depth={depth}
                  onNavigate={onNavigate}
                  toggle={toggle}
                />
              ) : (
                <ListItem disablePadding secondaryAction={toggle} sx={{ pl: 3 + depth * 1.5, minHeight: 36, "& .MuiListItemSecondaryAction-root": { right: 12 } }}>
                  <ListItemIcon sx={{ minWidth: 32 }}>
                    <FolderOutlined fontSize="small" color="disabled" />
                  </ListItemIcon>
                  <ListItemText primary={node.label} slotProps={{ primary: { noWrap: true, sx: { fontSize: 14 }, color: "text.secondary" } }} />
                </ListItem>
              )}
            </List>
            {node.children.length > 0 && (
              <Collapse in={open} timeout={0} unmountOnExit>
                <List disablePadding>
                  <FolderTree
                    nodes={node.children}
                    depth={depth + 1}
                    current={current}
                    collapsed={collapsed}
                    onToggle={onToggle}
                    onNavigate={onNavigate}
                  />
                </List>
              </Collapse>
            )}
          </Box>
        );
      })}
    </>
  );
}

function Mailboxes({ current, onNavigate }: NavListProps) {
  const folders = useFolders();
  const accounts = useAccounts();
  const [collapsed, toggle] = useCollapsed();
  if (folders.isPending) {
    return (
      <Box component="li" aria-hidden sx={{ listStyle: "none", px: 3, py: 1 }}>
        {[0, 1, 2].map((n) => (
          <Skeleton key={n} variant="text" sx={{ fontSize: 14, my: 1 }} />
        ))}
      </Box>
    );
  }
  if (folders.isError) {
    return (
      <Box component="li" sx={{ listStyle: "none", px: 3, py: 1 }}>
        <Typography variant="body2" color="text.secondary">
          Couldn’t load your folders.
        </Typography>
        <Button size="small" onClick={() => void folders.refetch()} sx={{ ml: -1 }}>
          Try again
        </Button>
      </Box>
    );
  }
  const sections = mailboxSections(folders.data, accounts.data);
  const several = sections.length > 1;
  return (
    <>
      {sections.map((section) => {
        if (section.tree.length === 0) return null;
        const key = `account:${section.accountId}`;
        const open = !collapsed.has(key);
        const headingId = `nav-mailbox-${section.accountId}`;
        return (
          <Box component="li" key={section.accountId} sx={{ listStyle: "none", mt: 1 }}>
            <Box sx={{ display: "flex", alignItems: "center", px: 3, pr: 1.5, minHeight: 32 }}>
              <Typography
                id={headingId}
                variant="overline"
                component="h2"
                noWrap
                sx={{ flex: 1, minWidth: 0, lineHeight: 1.5, color: "text.secondary", textTransform: several ? "none" : undefined, fontSize: several ? 13 : undefined, fontWeight: 600 }}
              >
                {several ? section.label : "Folders"}
              </Typography>
              <IconButton
                size="small"
                aria-label={open ? `Fold ${several ? section.label : "folders"}` : `Unfold ${several ? section.label : "folders"}`}
                aria-expanded={open}
                onClick={() => toggle(key)}
              >
                {open ? <ExpandLess fontSize="small" /> : <ExpandMore fontSize="small" />}
              </IconButton>
            </Box>
            <Collapse in={open} timeout={0} unmountOnExit>
              <List disablePadding aria-labelledby={headingId}>
                <FolderTree
                  nodes={section.tree}
                  depth={0}
                  current={current}
                  collapsed={collapsed}
                  onToggle={toggle}
                  onNavigate={onNavigate}
                />
              </List>
            </Collapse>
          </Box>
        );
      })}
    </>
  );
}

/**
 * The navigation: the unified folders with their counts, each mailbox's folder tree, then the
 * other pages.
 */
export function NavList({ current, onNavigate }: NavListProps) {
  const pathname = usePathname();
  const folders = useFolders().data;
  const drafts = useDraftList().data;
  const outbox = useOutbox().data;
  const isAdmin = useMe().data?.is_admin === true;
  const onMail = pathname === "/" || pathname === "";
  const here = onMail ? current : null;

  const page = ({ label, href, icon: Icon }: NavEntry) => {
    const active = isWithin(href, pathname);
    return (
      <NavItem key={href} label={label} href={href} icon={<Icon fontSize="small" />} active={active} onNavigate={onNavigate} />
    );
  };

  return (
    <Box component="nav" aria-label="Folders">
      <List sx={{ py: 1 }}>
      {mailEntries.map((entry) => {
        const Icon = entry.icon;
        const active = isCurrentMail(entry.location, here);
        const count = entryCount(entry, { folders, drafts, outbox });
        if (entry.whileCounted && count.value === 0 && !active) return null;
        return (
          <NavItem
            key={entry.label}
            label={entry.label}
            href={mailHref(entry.location)}
            icon={<Icon fontSize="small" />}
            active={active}
            count={count.value}
            countKind={count.kind}
            onNavigate={onNavigate}
          />
        );
      })}
      <Mailboxes current={here} onNavigate={onNavigate} />
      {/* A <ul> may hold only list items, and an <li> may not be a separator. */}
      <Box component="li" aria-hidden sx={{ listStyle: "none" }}>
        <Divider sx={{ my: 1 }} />
      </Box>
      {appEntries.map(page)}
      {isAdmin && page(adminEntry)}
      </List>
    </Box>
  );
}
