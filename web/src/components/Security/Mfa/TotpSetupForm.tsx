"use client";

import ContentCopyOutlined from "@mui/icons-material/ContentCopyOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import { useState, type FormEvent } from "react";

import { useTotpEnable, type TotpSetup } from "@/api/mfa";
import { errorMessage, problemCode } from "@/api/problem";

import { useCopy } from "./useCopy";

interface TotpSetupFormProps {
  setup: TotpSetup;
  onEnabled(recoveryCodes: string[]): void;
  onCancel(): void;
}

/** An SVG document as an image URL: rendered by the image decoder, never as page markup. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

/** Scan the QR code (or type the key), then confirm with the first code. */
export function TotpSetupForm({ setup, onEnabled, onCancel }: TotpSetupFormProps) {
  const [code, setCode] = useState("");
  const enable = useTotpEnable();
  const copy = useCopy();
  const wrongCode = problemCode(enable.error) === "invalid_mfa_code";

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (code) enable.mutate(code, { onSuccess: (codes) => onEnabled(codes) });
  };

  return (
    <Stack spacing={2}>
      <Typography variant="body2">
        1. Scan this QR code with your authenticator app, or enter the setup key by hand.
      </Typography>
      <Stack direction={{ xs: "column", sm: "row" }} spacing={3} sx={{ alignItems: { sm: "center" } }}>
        <Box
          component="img"
          src={svgDataUrl(setup.qr_svg)}
          alt="QR code to add Postwise to an authenticator app"
          width={180}
          height={180}
          sx={{ bgcolor: "#fff", p: 1, borderRadius: 1, border: 1, borderColor: "divider" }}
        />
        <Box sx={{ minWidth: 0 }}>
          <Typography variant="caption" color="text.secondary" id="totp-secret-label">
            Setup key
          </Typography>
          <Stack direction="row" spacing={1} sx={{ alignItems: "center" }}>
            <Typography
              aria-labelledby="totp-secret-label"
              data-testid="totp-secret"
              data-secret={setup.secret}
              sx={{ fontFamily: "monospace", fontSize: 16, wordBreak: "break-all" }}
            >
              {groupSecret(setup.secret)}
            </Typography>
            <Tooltip title={copy.copied ? "Copied" : "Copy setup key"}>
              <IconButton aria-label="Copy setup key" onClick={() => copy.copy(setup.secret)}>
                <ContentCopyOutlined fontSize="small" />
              </IconButton>
            </Tooltip>
          </Stack>
          <Button href={setup.otpauth_uri} size="small" sx={{ mt: 1, px: 0 }}>
            Open in authenticator app
          </Button>
        </Box>
      </Stack>
      <Stack
        component="form"
        aria-label="Confirm authenticator app"
        noValidate
        spacing={2}
        onSubmit={submit}
        sx={{ maxWidth: 320 }}
      >
        <Typography variant="body2">2. Enter the 6-digit code the app shows.</Typography>
        {enable.isError && !wrongCode && (
          <Alert severity="error" role="alert">
            {errorMessage(enable.error)}
          </Alert>
        )}
        <TextField
          label="Authentication code"
          name="code"
          value={code}
          onChange={(event) => setCode(event.target.value.replace(/\D/g, "").slice(0, 6))}
          autoComplete="one-time-code"
          error={wrongCode}
          helperText={
            wrongCode ? "That code is not valid. Check the app and try the current code." : undefined
          }
          required
          slotProps={{ htmlInput: { inputMode: "numeric", pattern: "[0-9]*" } }}
        />
        <Stack direction="row" spacing={1}>
          <Button type="submit" variant="contained" loading={enable.isPending} disabled={!code.trim()}>
            Turn on
          </Button>
          <Button onClick={onCancel} disabled={enable.isPending}>
            Cancel
          </Button>
        </Stack>
      </Stack>
    </Stack>
  );
}
