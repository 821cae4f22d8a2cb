"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import { useState, type FormEvent } from "react";

import { useTotpDisable } from "@/api/mfa";
import { errorMessage, problemCode } from "@/api/problem";
import { PasswordField } from "@/components/Password/PasswordField";

interface DisableMfaDialogProps {
  open: boolean;
  onClose(): void;
}

/** Turning two-factor authentication off needs the password and a current code. */
export function DisableMfaDialog({ open, onClose }: DisableMfaDialogProps) {
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const disable = useTotpDisable();
  // The server answers invalid_credentials for a wrong password or a wrong code alike.
  const codeError = problemCode(disable.error) === "invalid_mfa_code" ? "That code is not valid." : undefined;

  const close = () => {
    if (disable.isPending) return;
    setPassword("");
    setCode("");
    disable.reset();
    onClose();
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (password && code.trim()) {
      disable.mutate({ password, code: code.trim() }, { onSuccess: close });
    }
  };

  return (
    <Dialog open={open} onClose={close} aria-labelledby="disable-mfa-title" maxWidth="xs" fullWidth>
      <form noValidate onSubmit={submit} aria-label="Turn off two-factor authentication">
        <DialogTitle id="disable-mfa-title">Turn off two-factor authentication?</DialogTitle>
        <DialogContent>
          <DialogContentText sx={{ mb: 2 }}>
            Signing in will need only the password. Your recovery codes stop working.
          </DialogContentText>
          <Stack spacing={2}>
            {disable.isError && !codeError && (
              <Alert severity="error" role="alert">
                {errorMessage(disable.error, {
                  invalid_credentials: "The password or the code is not right.",
                })}
              </Alert>
            )}
            <PasswordField
              label="Password"
              name="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
              fullWidth
              autoFocus
            />
            <TextField
              label="Authentication code"
              name="code"
              autoComplete="one-time-code"
              value={code}
              onChange={(event) => setCode(event.target.value)}
              error={codeError !== undefined}
              helperText={codeError}
              required
              fullWidth
            />
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={close} disabled={disable.isPending}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="error"
            variant="contained"
            loading={disable.isPending}
            disabled={!password || !code.trim()}
          >
            Turn off
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
