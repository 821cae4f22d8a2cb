"use client";

import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import { useId } from "react";

import { usePasswordStrength } from "@/api/auth";
import type { PasswordFeedback } from "@/api/problem";

import { PasswordField } from "./PasswordField";
import { StrengthMeter } from "./StrengthMeter";

interface NewPasswordFieldProps {
  value: string;
  onChange(value: string): void;
  label?: string;
  name?: string;
  /** A server error for this field (e.g. from `weak_password`). */
  error?: string;
  /** zxcvbn feedback the server sent with `weak_password`. */
  feedback?: PasswordFeedback;
  /** Let the strength check penalise passwords built from these. */
  email?: string;
  userName?: string;
  disabled?: boolean;
}

/** A new-password input with the live strength meter under it. */
export function NewPasswordField({
  value,
  onChange,
  label = "Password",
  name = "password",
  error,
  feedback,
  email,
  userName,
  disabled,
}: NewPasswordFieldProps) {
  const fieldId = useId();
  const meterId = `${fieldId}-strength`;
  // The input's own aria-describedby would replace MUI's helper-text link: keep both.
  const describedBy = error !== undefined ? `${fieldId}-helper-text ${meterId}` : meterId;
  const { strength, checking, unavailable } = usePasswordStrength(value, {
    email,
    name: userName,
  });
  return (
    <>
      <PasswordField
        id={fieldId}
        label={label}
        name={name}
        autoComplete="new-password"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        error={error !== undefined}
        helperText={error}
        disabled={disabled}
        required
        fullWidth
        slotProps={{ htmlInput: { "aria-describedby": describedBy } }}
      />
      <StrengthMeter id={meterId} strength={strength} checking={checking} unavailable={unavailable} />
      {feedback && (feedback.warning || feedback.suggestions.length > 0) && (
        <Box role="note" sx={{ mt: -1 }}>
          {feedback.warning && (
            <Typography variant="caption" component="p" color="error">
              {feedback.warning}
            </Typography>
          )}
          {feedback.suggestions.map((suggestion) => (
            <Typography key={suggestion} variant="caption" component="p" color="text.secondary">
              {suggestion}
            </Typography>
          ))}
        </Box>
      )}
    </>
  );
}
