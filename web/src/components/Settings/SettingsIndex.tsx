"use client";

import ChevronRight from "@mui/icons-material/ChevronRight";
import SecurityOutlined from "@mui/icons-material/SecurityOutlined";
import Box from "@mui/material/Box";
import List from "@mui/material/List";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Paper from "@mui/material/Paper";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

/** The settings overview: one entry per settings page. */
export function SettingsIndex() {
  return (
    <Box component="section" aria-labelledby="settings-title" sx={{ maxWidth: 720 }}>
      <Typography id="settings-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        Settings
      </Typography>
      <Paper variant="outlined">
        <List disablePadding>
          <ListItemButton component={NextLink} href="/settings/security/">
            <ListItemIcon>
              <SecurityOutlined />
            </ListItemIcon>
            <ListItemText
              primary="Security"
              secondary="Password, two-factor authentication, signed-in devices and recent activity"
            />
            <ChevronRight aria-hidden color="action" />
          </ListItemButton>
        </List>
      </Paper>
      <Typography variant="body2" color="text.secondary" sx={{ mt: 2 }}>
        Mailbox settings arrive with accounts and mailboxes.
      </Typography>
    </Box>
  );
}
