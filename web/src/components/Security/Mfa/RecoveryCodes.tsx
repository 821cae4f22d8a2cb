"use client";

import ContentCopyOutlined from "@mui/icons-material/ContentCopyOutlined";
import DownloadOutlined from "@mui/icons-material/DownloadOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Checkbox from "@mui/material/Checkbox";
import FormControlLabel from "@mui/material/FormControlLabel";
import Stack from "@mui/material/Stack";
import { useState } from "react";

import { useCopy } from "./useCopy";

interface RecoveryCodesProps {
  codes: string[];
  onDone(): void;
}

function download(codes: string[]): void {
  const text = [
    "Postwise recovery codes",
    `Saved ${new Date().toISOString().slice(0, 10)}.`,
    "Each code signs you in once when the authenticator app is not at hand.",
    "",
    ...codes,
    "",
  ].join("\n");
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "postwise-recovery-codes.txt";
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The recovery codes, shown once right after two-factor authentication is turned on. */
export function RecoveryCodes({ codes, onDone }: RecoveryCodesProps) {
  const [saved, setSaved] = useState(false);
  const copy = useCopy();
  return (
    <Stack spacing={2}>
      <Alert severity="warning">
        Two-factor authentication is on. Save these recovery codes somewhere safe now: they are
        shown only once, and each one signs you in once if you lose your authenticator app.
      </Alert>
      <Box
        component="ol"
        aria-label="Recovery codes"
        data-testid="recovery-codes"
        sx={{
          m: 0,
          p: 2,
          listStyle: "none",
          display: "grid",
          gridTemplateColumns: { xs: "1fr", sm: "1fr 1fr" },
          gap: 1,
          fontFamily: "monospace",
          fontSize: 16,
          bgcolor: "action.hover",
          borderRadius: 1,
          maxWidth: 420,
        }}
      >
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </Box>
      <Stack direction="row" spacing={1} sx={{ flexWrap: "wrap" }}>
        <Button startIcon={<ContentCopyOutlined />} onClick={() => copy.copy(codes.join("\n"))}>
          {copy.copied ? "Copied" : "Copy"}
        </Button>
        <Button startIcon={<DownloadOutlined />} onClick={() => download(codes)}>
          Download
        </Button>
      </Stack>
      {copy.failed && (
        <Alert severity="info">Copying is blocked here; select the codes and copy them by hand.</Alert>
      )}
      <FormControlLabel
        control={<Checkbox checked={saved} onChange={(event) => setSaved(event.target.checked)} />}
        label="I have saved these codes"
      />
      <div>
        <Button variant="contained" disabled={!saved} onClick={onDone}>
          Done
        </Button>
      </div>
    </Stack>
  );
}
