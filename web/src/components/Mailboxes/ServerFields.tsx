"use client";

import Box from "@mui/material/Box";
import MenuItem from "@mui/material/MenuItem";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";

import type { Security } from "@/api/accounts";

import { SECURITY_LABELS, type ServerField, type ServerForm } from "./serverForm";

interface ServerFieldsProps {
  value: ServerForm;
  onChange(field: ServerField, value: string): void;
  errors: Partial<Record<ServerField, string>>;
  disabled?: boolean;
}

const SECURITIES = Object.keys(SECURITY_LABELS) as Security[];

// Host on its own line at phone width, beside port and security from 600 px.
const ROW = {
  display: "grid",
  gap: 1.5,
  gridTemplateColumns: { xs: "1fr 1fr", sm: "minmax(0, 1fr) 96px 168px" },
  "& > .pw-host": { gridColumn: { xs: "1 / -1", sm: "auto" } },
} as const;

function ServerRow({
  server,
  title,
  value,
  onChange,
  errors,
  disabled,
}: ServerFieldsProps & { server: "imap" | "smtp"; title: string }) {
  const host = `${server}Host` as const;
  const port = `${server}Port` as const;
  const security = `${server}Security` as const;
  return (
    <Box component="fieldset" sx={{ border: 0, p: 0, m: 0, minWidth: 0 }}>
      <Typography component="legend" variant="subtitle2" sx={{ mb: 1 }}>
        {title}
      </Typography>
      <Box sx={ROW}>
        <TextField
          className="pw-host"
          label="Server"
          name={`${server}_host`}
          value={value[host]}
          onChange={(event) => onChange(host, event.target.value)}
          error={errors[host] !== undefined}
          helperText={errors[host]}
          placeholder={server === "imap" ? "imap.example.com" : "smtp.example.com"}
          autoComplete="off"
          spellCheck={false}
          disabled={disabled}
          size="small"
          slotProps={{ htmlInput: { autoCapitalize: "none" } }}
        />
        <TextField
          label="Port"
          name={`${server}_port`}
          value={value[port]}
          onChange={(event) => onChange(port, event.target.value.replace(/\D/g, ""))}
          error={errors[port] !== undefined}
          helperText={errors[port]}
          disabled={disabled}
          size="small"
          slotProps={{ htmlInput: { inputMode: "numeric", maxLength: 5 } }}
        />
        <TextField
          select
          label="Security"
          name={`${server}_security`}
          value={value[security]}
          onChange={(event) => onChange(security, event.target.value)}
          disabled={disabled}
          size="small"
        >
          {SECURITIES.map((option) => (
            <MenuItem key={option} value={option}>
              {SECURITY_LABELS[option]}
            </MenuItem>
          ))}
        </TextField>
      </Box>
    </Box>
  );
}

/** Incoming and outgoing servers and the sign-in name, for people who need to set them. */
export function ServerFields(props: ServerFieldsProps) {
  const { value, onChange, errors, disabled } = props;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", gap: 2.5, pt: 1 }}>
      <ServerRow {...props} server="imap" title="Incoming mail (IMAP)" />
      <ServerRow {...props} server="smtp" title="Outgoing mail (SMTP)" />
      <TextField
        label="User name"
        name="username"
        value={value.username}
        onChange={(event) => onChange("username", event.target.value)}
        error={errors.username !== undefined}
        helperText={errors.username ?? "Leave empty to sign in with the email address"}
        autoComplete="off"
        spellCheck={false}
        disabled={disabled}
        size="small"
        slotProps={{ htmlInput: { autoCapitalize: "none" } }}
      />
    </Box>
  );
}
