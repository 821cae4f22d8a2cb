"use client";

import AutoAwesomeOutlined from "@mui/icons-material/AutoAwesomeOutlined";
import ChevronRight from "@mui/icons-material/ChevronRight";
import MarkunreadMailboxOutlined from "@mui/icons-material/MarkunreadMailboxOutlined";
import NotificationsOutlined from "@mui/icons-material/NotificationsOutlined";
import PaletteOutlined from "@mui/icons-material/PaletteOutlined";
import SecurityOutlined from "@mui/icons-material/SecurityOutlined";
import type { SvgIconComponent } from "@mui/icons-material";
import Box from "@mui/material/Box";
import Divider from "@mui/material/Divider";
import List from "@mui/material/List";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Paper from "@mui/material/Paper";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { Fragment } from "react";

import { SendingSettings } from "./SendingSettings";

interface SettingsEntry {
  href: string;
  title: string;
  description: string;
  icon: SvgIconComponent;
}

const ENTRIES: readonly SettingsEntry[] = [
  {
    href: "/settings/mailboxes/",
    title: "Mailboxes",
    description: "Add, check and remove mailboxes; import mail from a file",
    icon: MarkunreadMailboxOutlined,
  },
  {
    href: "/settings/notifications/",
    title: "Notifications",
    description: "Alerts for new mail on this device",
    icon: NotificationsOutlined,
  },
  {
    href: "/settings/ai/",
    title: "AI assistant",
    description: "Who reads your mail, your key and budget, the Important section, usage",
    icon: AutoAwesomeOutlined,
  },
  {
    href: "/settings/appearance/",
    title: "Appearance",
    description: "Theme and how your mail is laid out",
    icon: PaletteOutlined,
  },
  {
    href: "/settings/security/",
    title: "Security",
    description: "Password, two-factor authentication, signed-in devices and recent activity",
    icon: SecurityOutlined,
  },
];

/** The settings overview: one entry per settings page, then the settings too small for a page of their own. */
export function SettingsIndex() {
  return (
    <Box component="section" aria-labelledby="settings-title" sx={{ maxWidth: 720, width: "100%" }}>
      <Typography id="settings-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        Settings
      </Typography>
      <Paper variant="outlined">
        <List disablePadding aria-labelledby="settings-title">
          {ENTRIES.map(({ href, title, description, icon: Icon }, index) => (
            <Fragment key={href}>
              {index > 0 && <Divider component="li" aria-hidden />}
              <li>
                <ListItemButton component={NextLink} href={href}>
                  <ListItemIcon>
                    <Icon aria-hidden />
                  </ListItemIcon>
                  <ListItemText primary={title} secondary={description} />
                  <ChevronRight aria-hidden color="action" />
                </ListItemButton>
              </li>
            </Fragment>
          ))}
        </List>
      </Paper>
      <Box sx={{ mt: 3 }}>
        <SendingSettings />
      </Box>
    </Box>
  );
}
