"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Link from "@mui/material/Link";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useState, type FormEvent } from "react";

import { useForgotPassword } from "@/api/auth";
import { errorMessage, fieldErrors } from "@/api/problem";
import { AuthCard } from "@/components/Auth/AuthCard";
import { CheckInbox } from "@/components/Auth/CheckInbox";

/** Ask for a password-reset link (the answer never says whether the address exists). */
export function ForgotPasswordCard() {
  const [email, setEmail] = useState("");
  const forgot = useForgotPassword();
  const errors = fieldErrors(forgot.error);

  if (forgot.isSuccess) {
    return (
      <AuthCard subtitle="Check your inbox">
        <CheckInbox email={forgot.variables}>
          If <strong>{forgot.variables}</strong> belongs to an account, we sent it a link to choose
          a new password. The link works once and expires soon.
        </CheckInbox>
      </AuthCard>
    );
  }

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (email.trim()) forgot.mutate(email.trim());
  };

  return (
    <AuthCard subtitle="Reset your password">
      <Stack component="form" aria-label="Reset password" noValidate spacing={2} onSubmit={submit}>
        <Typography variant="body2" color="text.secondary">
          Enter the email address of your account and we will send you a link to choose a new
          password.
        </Typography>
        {forgot.isError && errors.email === undefined && (
          <Alert severity="error" role="alert">
            {errorMessage(forgot.error)}
          </Alert>
        )}
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={errors.email !== undefined}
          helperText={errors.email}
          required
          fullWidth
          autoFocus
        />
        <Button
          type="submit"
          variant="contained"
          size="large"
          loading={forgot.isPending}
          disabled={!email.trim()}
          fullWidth
        >
          Send reset link
        </Button>
        <Link component={NextLink} href="/signin/" variant="body2">
          Back to sign in
        </Link>
      </Stack>
    </AuthCard>
  );
}
