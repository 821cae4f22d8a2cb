"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Link from "@mui/material/Link";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import NextLink from "next/link";
import { useState, type FormEvent } from "react";

import { useLogin, type LoginResult } from "@/api/auth";
import { errorMessage, problemCode } from "@/api/problem";
import { PasswordField } from "@/components/Password/PasswordField";

import { ResendVerification } from "./ResendVerification";

interface CredentialsFormProps {
  onResult(result: LoginResult, email: string): void;
  /** Shown above the form, e.g. after an expired MFA step. */
  notice?: string;
}

const MESSAGES = {
  invalid_credentials: "Wrong email or password.",
  email_not_verified: "Confirm your email address first: follow the link we sent you.",
};

/** Step one of sign-in: email and password. */
export function CredentialsForm({ onResult, notice }: CredentialsFormProps) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useLogin();
  const code = problemCode(login.error);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!email || !password) return;
    login.mutate(
      { email: email.trim(), password },
      { onSuccess: (result) => onResult(result, email.trim()) },
    );
  };

  return (
    <Stack component="form" aria-label="Sign in" noValidate spacing={2} onSubmit={submit}>
      {notice && !login.isError && <Alert severity="info">{notice}</Alert>}
      {login.isError && (
        <Alert severity="error" role="alert">
          {errorMessage(login.error, MESSAGES)}
          {code === "email_not_verified" && <ResendVerification email={email.trim()} />}
        </Alert>
      )}
      <TextField
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        value={email}
        onChange={(event) => setEmail(event.target.value)}
        required
        fullWidth
        autoFocus
      />
      <PasswordField
        label="Password"
        name="password"
        autoComplete="current-password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
        required
        fullWidth
      />
      <Button
        type="submit"
        variant="contained"
        size="large"
        loading={login.isPending}
        disabled={!email || !password}
        fullWidth
      >
        Sign in
      </Button>
      <Stack direction="row" sx={{ justifyContent: "space-between", flexWrap: "wrap", gap: 1 }}>
        <Link component={NextLink} href="/forgot-password/" variant="body2">
          Forgot password?
        </Link>
        <Link component={NextLink} href="/signup/" variant="body2">
          Create an account
        </Link>
      </Stack>
    </Stack>
  );
}
