"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { useState, type FormEvent } from "react";

import { useLoginMfa, type TokenResponse } from "@/api/auth";
import { errorMessage, problemCode } from "@/api/problem";

interface MfaFormProps {
  mfaToken: string;
  email: string;
  onSignedIn(tokens: TokenResponse): void;
  /** The MFA token expired or was used: start over with the password. */
  onRestart(notice?: string): void;
}

/** Step two of sign-in: a code from the authenticator app, or a recovery code. */
export function MfaForm({ mfaToken, email, onSignedIn, onRestart }: MfaFormProps) {
  const [recovery, setRecovery] = useState(false);
  const [code, setCode] = useState("");
  const loginMfa = useLoginMfa();
  const failure = problemCode(loginMfa.error);
  const wrongCode = failure === "invalid_mfa_code";

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = recovery ? code.trim().toLowerCase() : code;
    if (!value) return;
    loginMfa.mutate(
      { mfa_token: mfaToken, code: value },
      {
        onSuccess: (tokens) => onSignedIn(tokens),
        onError: (error) => {
          if (problemCode(error) === "invalid_token") {
            onRestart("The sign-in took too long. Enter your password again.");
          }
        },
      },
    );
  };

  const switchMode = () => {
    setRecovery((value) => !value);
    setCode("");
    loginMfa.reset();
  };

  return (
    <Stack
      component="form"
      aria-label="Two-factor authentication"
      noValidate
      spacing={2}
      onSubmit={submit}
    >
      <Typography variant="body2">
        {recovery
          ? "Enter one of the recovery codes you saved when you set up two-factor " +
            "authentication. Each code works once."
          : "Enter the 6-digit code from your authenticator app."}
      </Typography>
      <Typography variant="body2" color="text.secondary">
        Signing in as {email}
      </Typography>
      {loginMfa.isError && !wrongCode && (
        <Alert severity="error" role="alert">
          {errorMessage(loginMfa.error)}
        </Alert>
      )}
      <TextField
        key={recovery ? "recovery" : "totp"}
        label={recovery ? "Recovery code" : "Authentication code"}
        name="code"
        value={code}
        // Apps show "123 456"; keep only the digits of a TOTP code as it is typed or pasted.
        onChange={(event) =>
          setCode(recovery ? event.target.value : event.target.value.replace(/\D/g, "").slice(0, 6))
        }
        autoComplete="one-time-code"
        error={wrongCode}
        helperText={wrongCode ? "That code is not valid. Try again." : undefined}
        required
        fullWidth
        autoFocus
        slotProps={{
          htmlInput: recovery
            ? { autoCapitalize: "none", spellCheck: false, placeholder: "abcd-efgh-ijkl" }
            : { inputMode: "numeric", pattern: "[0-9]*", placeholder: "123456" },
        }}
      />
      <Button
        type="submit"
        variant="contained"
        size="large"
        loading={loginMfa.isPending}
        disabled={!code.trim()}
        fullWidth
      >
        Verify
      </Button>
      <Stack direction="row" sx={{ justifyContent: "space-between", flexWrap: "wrap", gap: 1 }}>
        <Button size="small" onClick={switchMode}>
          {recovery ? "Use the authenticator app" : "Use a recovery code"}
        </Button>
        <Button size="small" color="inherit" onClick={() => onRestart()}>
          Back
        </Button>
      </Stack>
    </Stack>
  );
}
