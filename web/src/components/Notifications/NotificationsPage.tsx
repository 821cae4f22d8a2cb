"use client";

import ArrowBack from "@mui/icons-material/ArrowBack";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import { NotificationSettings } from "./NotificationSettings";

/** Settings → Notifications. */
export function NotificationsPage() {
  return (
    <Box component="section" aria-labelledby="notifications-title" sx={{ maxWidth: 720 }}>
      <Button component={NextLink} href="/settings/" startIcon={<ArrowBack />} size="small" sx={{ mb: 1 }}>
        Settings
      </Button>
      <Typography id="notifications-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        Notifications
      </Typography>
      <NotificationSettings />
    </Box>
  );
}
