"use client";

import VerifiedUserOutlined from "@mui/icons-material/VerifiedUserOutlined";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

interface AccountReadyProps {
  email: string;
  /** The account is the server's first, and so its administrator. */
  admin: boolean;
}

/**
 * After the sign-up of a server's first user when no mail server is set up:
 * the account was trusted at once and is already signed in, so there is no
 * link to wait for.
 */
export function AccountReady({ email, admin }: AccountReadyProps) {
  return (
    <Stack spacing={2} role="status" sx={{ alignItems: "flex-start" }}>
      <VerifiedUserOutlined color="success" sx={{ fontSize: 40 }} aria-hidden />
      <Typography>
        You are signed in as <strong>{email}</strong>.
      </Typography>
      {admin && (
        <Typography>
          As the first account on this Postwise server, you are its administrator. No
          confirmation email was needed.
        </Typography>
      )}
      <Typography variant="body2" color="text.secondary">
        This server has no mail server set for its own messages (POSTWISE_SMTP_HOST). Set one so
        that people who sign up later receive their confirmation links.
      </Typography>
      <Button component={NextLink} href="/" variant="contained">
        Go to your inbox
      </Button>
    </Stack>
  );
}
