"use client";

import MarkEmailReadOutlined from "@mui/icons-material/MarkEmailReadOutlined";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import type { ReactNode } from "react";

import { ResendVerification } from "@/components/SignIn/ResendVerification";

import { DevOutboxHint } from "./DevOutboxHint";

interface CheckInboxProps {
  email: string;
  children: ReactNode;
  /** Offer to send the verification link again. */
  resend?: boolean;
}

/** The "we sent you a link" state after sign-up or a password-reset request. */
export function CheckInbox({ email, children, resend = false }: CheckInboxProps) {
  return (
    <Stack spacing={2} role="status" sx={{ alignItems: "flex-start" }}>
      <MarkEmailReadOutlined color="primary" sx={{ fontSize: 40 }} aria-hidden />
      <Typography>{children}</Typography>
      <Typography variant="body2" color="text.secondary">
        Nothing there? Look in the spam folder; the link can take a minute to arrive.
      </Typography>
      <DevOutboxHint email={email} />
      {resend && <ResendVerification email={email} />}
      <Button component={NextLink} href="/signin/" variant="contained">
        Go to sign in
      </Button>
    </Stack>
  );
}
