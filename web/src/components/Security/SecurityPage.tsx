"use client";

import ArrowBack from "@mui/icons-material/ArrowBack";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import { ChangePasswordCard } from "./ChangePasswordCard";
import { MfaCard } from "./Mfa/MfaCard";
import { SecurityEventsCard } from "./SecurityEventsCard";
import { SessionsCard } from "./SessionsCard";

/** Settings → Security: password, two-factor authentication, sessions, activity. */
export function SecurityPage() {
  return (
    <Box component="section" aria-labelledby="security-title" sx={{ maxWidth: 900 }}>
      <Button component={NextLink} href="/settings/" startIcon={<ArrowBack />} size="small" sx={{ mb: 1 }}>
        Settings
      </Button>
      <Typography id="security-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        Security
      </Typography>
      <Stack spacing={3}>
        <ChangePasswordCard />
        <MfaCard />
        <SessionsCard />
        <SecurityEventsCard />
      </Stack>
    </Box>
  );
}
