"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Link from "@mui/material/Link";
import Stack from "@mui/material/Stack";
import NextLink from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";

import { useResetPassword } from "@/api/auth";
import { errorMessage, fieldErrors, passwordFeedback, problemCode } from "@/api/problem";
import { AuthCard } from "@/components/Auth/AuthCard";
import { NewPasswordField } from "@/components/Password/NewPasswordField";
import { PasswordField } from "@/components/Password/PasswordField";

const MESSAGES = {
  invalid_token: "This reset link is invalid, already used or expired. Ask for a new one.",
};

/** Choose a new password from a reset link; then sign in again (no automatic sign-in). */
export function ResetPasswordCard() {
  const token = useSearchParams().get("token") ?? "";
  const router = useRouter();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [touched, setTouched] = useState(false);
  const reset = useResetPassword();
  const code = problemCode(reset.error);
  const errors = fieldErrors(reset.error);
  const mismatch = touched && confirm !== password;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setTouched(true);
    if (!password || confirm !== password) return;
    reset.mutate(
      { token, new_password: password },
      { onSuccess: () => router.replace("/signin/?reset=1") },
    );
  };

  if (token === "") {
    return (
      <AuthCard subtitle="Choose a new password">
        <Alert severity="error" role="alert" sx={{ mb: 2 }}>
          This link has no reset token. Open the link from the email exactly as it was sent.
        </Alert>
        <Button component={NextLink} href="/forgot-password/" variant="contained">
          Ask for a new link
        </Button>
      </AuthCard>
    );
  }

  return (
    <AuthCard subtitle="Choose a new password">
      <Stack component="form" aria-label="Choose a new password" noValidate spacing={2} onSubmit={submit}>
        {reset.isError && errors.new_password === undefined && (
          <Alert severity="error" role="alert">
            {errorMessage(reset.error, MESSAGES)}
            {code === "invalid_token" && (
              <>
                {" "}
                <Link component={NextLink} href="/forgot-password/">
                  Send a new link
                </Link>
              </>
            )}
          </Alert>
        )}
        <NewPasswordField
          label="New password"
          name="new_password"
          value={password}
          onChange={setPassword}
          error={errors.new_password}
          feedback={code === "weak_password" ? passwordFeedback(reset.error) : undefined}
        />
        <PasswordField
          label="Confirm new password"
          name="confirm_password"
          autoComplete="new-password"
          value={confirm}
          onChange={(event) => setConfirm(event.target.value)}
          onBlur={() => setTouched(true)}
          error={mismatch}
          helperText={mismatch ? "The passwords do not match." : undefined}
          required
          fullWidth
        />
        <Button
          type="submit"
          variant="contained"
          size="large"
          loading={reset.isPending || reset.isSuccess}
          disabled={!password || !confirm}
          fullWidth
        >
          Set new password
        </Button>
      </Stack>
    </AuthCard>
  );
}
