"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { useChangePassword } from "@/api/auth";
import { eventKeys } from "@/api/events";
import { errorMessage, fieldErrors, passwordFeedback, problemCode } from "@/api/problem";
import { sessionKeys } from "@/api/sessions";
import { useMe } from "@/api/users";
import { NewPasswordField } from "@/components/Password/NewPasswordField";
import { PasswordField } from "@/components/Password/PasswordField";

import { SectionCard } from "./SectionCard";

/** Change the password, proving the current one. */
export function ChangePasswordCard() {
  const me = useMe();
  const queryClient = useQueryClient();
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [touched, setTouched] = useState(false);
  const code = problemCode(change.error);
  const errors = fieldErrors(change.error);
  const currentError =
    code === "invalid_credentials" ? "The current password is not right." : errors.current_password;
  const mismatch = touched && confirm !== next;
  const shownInline = currentError !== undefined || errors.new_password !== undefined;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setTouched(true);
    if (!current || !next || confirm !== next) return;
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
          setConfirm("");
          setTouched(false);
          void queryClient.invalidateQueries({ queryKey: eventKeys.all });
          void queryClient.invalidateQueries({ queryKey: sessionKeys.all });
        },
      },
    );
  };

  return (
    <SectionCard
      id="password"
      title="Password"
      description="Use a long password you do not use anywhere else."
    >
      <Stack
        component="form"
        aria-label="Change password"
        noValidate
        spacing={2}
        onSubmit={submit}
        sx={{ maxWidth: 420 }}
      >
        {change.isSuccess && (
          <Alert severity="success" role="status" onClose={() => change.reset()}>
            Your password was changed.
          </Alert>
        )}
        {change.isError && !shownInline && (
          <Alert severity="error" role="alert">
            {errorMessage(change.error)}
          </Alert>
        )}
        <PasswordField
          label="Current password"
          name="current_password"
          autoComplete="current-password"
          value={current}
          onChange={(event) => setCurrent(event.target.value)}
          error={currentError !== undefined}
          helperText={currentError}
          required
          fullWidth
        />
        <NewPasswordField
          label="New password"
          name="new_password"
          value={next}
          onChange={setNext}
          error={errors.new_password}
          feedback={code === "weak_password" ? passwordFeedback(change.error) : undefined}
          email={me.data?.email}
          userName={me.data?.name ?? undefined}
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
        <div>
          <Button
            type="submit"
            variant="contained"
            loading={change.isPending}
            disabled={!current || !next || !confirm}
          >
            Change password
          </Button>
        </div>
      </Stack>
    </SectionCard>
  );
}
