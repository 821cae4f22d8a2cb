"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Link from "@mui/material/Link";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";

import { useRegister } from "@/api/auth";
import { errorMessage, fieldErrors, passwordFeedback, problemCode } from "@/api/problem";
import { useAuth } from "@/auth/AuthProvider";
import { AuthCard } from "@/components/Auth/AuthCard";
import { CheckInbox } from "@/components/Auth/CheckInbox";
import { NewPasswordField } from "@/components/Password/NewPasswordField";

import { AccountReady } from "./AccountReady";

const MESSAGES = {
  registration_closed:
    "This server does not accept new accounts. Ask its administrator for an invitation.",
  invite_required:
    "An invitation is needed to create an account here. Open the link from your invitation email.",
};
const FIELD_CODES = new Set(["weak_password", "validation_error"]);

/**
 * Create an account; the address must be confirmed before the first sign-in,
 * except for a server's first account when the server cannot send mail: that
 * one is trusted and signed in at once.
 */
export function SignUpCard() {
  const params = useSearchParams();
  // Invitation mails link to /signup/?token=<invite token>.
  const invite = params.get("token") ?? undefined;
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const register = useRegister();
  const { signIn } = useAuth();
  const code = problemCode(register.error);
  const errors = fieldErrors(register.error);

  if (register.isSuccess && register.data.status === "signed_in") {
    return (
      <AuthCard subtitle="Your account is ready">
        <AccountReady email={register.variables.email} admin={register.data.admin} />
      </AuthCard>
    );
  }

  if (register.isSuccess) {
    return (
      <AuthCard subtitle="Check your inbox">
        <CheckInbox email={register.variables.email} resend>
          We sent a confirmation link to <strong>{register.variables.email}</strong>. Open it to
          activate your account, then sign in.
          {register.data.admin && (
            <> As the first account on this server, you will be its administrator.</>
          )}
        </CheckInbox>
      </AuthCard>
    );
  }

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    register.mutate(
      { email: email.trim(), password, name: name.trim(), invite_token: invite },
      {
        onSuccess: (result) => {
          // The refresh cookie came with the answer; keep the access token like a sign-in.
          if (result.status === "signed_in" && result.session) signIn(result.session);
        },
      },
    );
  };

  return (
    <AuthCard subtitle="Create your account">
      <Stack component="form" aria-label="Create account" noValidate spacing={2} onSubmit={submit}>
        {invite && !register.isError && (
          <Alert severity="info">You were invited: create your account to accept.</Alert>
        )}
        {register.isError && !(code && FIELD_CODES.has(code) && Object.keys(errors).length > 0) && (
          <Alert severity="error" role="alert">
            {errorMessage(register.error, MESSAGES)}
          </Alert>
        )}
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={errors.name !== undefined}
          helperText={errors.name ?? "Optional — shown to you and in mail you send"}
          fullWidth
          autoFocus
        />
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
        />
        <NewPasswordField
          value={password}
          onChange={setPassword}
          error={errors.password}
          feedback={code === "weak_password" ? passwordFeedback(register.error) : undefined}
          email={email}
          userName={name}
        />
        <Button
          type="submit"
          variant="contained"
          size="large"
          loading={register.isPending}
          disabled={!email || !password}
          fullWidth
        >
          Create account
        </Button>
        <Typography variant="body2">
          Already have an account?{" "}
          <Link component={NextLink} href="/signin/">
            Sign in
          </Link>
        </Typography>
      </Stack>
    </AuthCard>
  );
}
