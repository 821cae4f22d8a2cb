"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import CircularProgress from "@mui/material/CircularProgress";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import Stack from "@mui/material/Stack";
import { useTheme } from "@mui/material/styles";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useState, type FormEvent, type ReactNode } from "react";

import { looksLikeEmail, useCreateAccount, useDiscovery, type Account } from "@/api/accounts";
import { fieldErrors, problemCode } from "@/api/problem";
import { PasswordField } from "@/components/Password/PasswordField";

import { mailboxErrorMessage, problemField } from "./messages";
import {
  API_FIELDS,
  applyChange,
  EMPTY_SERVERS,
  fromDiscovery,
  serverBody,
  serverFormErrors,
  serverSummary,
  type ServerField,
  type ServerForm,
} from "./serverForm";
import { ServerFields } from "./ServerFields";
import { ServerSettingsSection } from "./ServerSettingsSection";
import { useDebounced } from "./useDebounced";

// Mail of the last 90 days is fetched first, the rest afterwards (the server's default).
const SYNC_WINDOW_DAYS = 90;

interface AddMailboxDialogProps {
  open: boolean;
  onClose(): void;
  onAdded(account: Account): void;
}

/** Connect a mailbox: the address and password, the servers found for it (or typed). */
export function AddMailboxDialog({ open, onClose, onAdded }: AddMailboxDialogProps) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down("sm"));
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : onClose}
      aria-labelledby="add-mailbox-title"
      maxWidth="sm"
      fullWidth
      fullScreen={phone}
    >
      {open && <AddMailboxForm onClose={onClose} onAdded={onAdded} onBusy={setBusy} />}
    </Dialog>
  );
}

function AddMailboxForm({
  onClose,
  onAdded,
  onBusy,
}: Omit<AddMailboxDialogProps, "open"> & { onBusy(busy: boolean): void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [edited, setEdited] = useState<ServerForm | undefined>(undefined);
  const [opened, setOpened] = useState(false);
  const [checked, setChecked] = useState(false);
  const create = useCreateAccount();

  const address = useDebounced(email.trim().toLowerCase(), 400);
  const discovery = useDiscovery(address);
  const current = address === email.trim().toLowerCase();
  const notFound = current && problemCode(discovery.error) === "discovery_failed";
  // What discovery found fills the fields until the user changes one of them.
  const servers = edited ?? (discovery.data ? fromDiscovery(discovery.data) : EMPTY_SERVERS);
  const manual = edited !== undefined || notFound || problemCode(create.error) === "discovery_failed";
  const settingsOpen = opened || notFound;

  const localErrors = checked && manual ? serverFormErrors(servers) : {};
  const apiErrors = fieldErrors(create.error);
  const errors: Partial<Record<ServerField, string>> = { ...localErrors };
  for (const [name, message] of Object.entries(apiErrors)) {
    const field = API_FIELDS[name];
    if (field) errors[field] ??= message;
  }
  const failed = problemField(create.error);
  if (failed) errors[API_FIELDS[failed] as ServerField] ??= "";

  const names = {
    email: email.trim(),
    imapHost: servers.imapHost || undefined,
    smtpHost: servers.smtpHost || undefined,
    signInHint: discovery.data?.sign_in_hint,
  };

  const change = (field: ServerField, value: string) => setEdited(applyChange(servers, field, value));

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setChecked(true);
    if (!looksLikeEmail(email) || !password) return;
    if (manual && Object.keys(serverFormErrors(servers)).length > 0) {
      setOpened(true);
      return;
    }
    onBusy(true);
    create.mutate(
      // Servers the user did not touch are left to the server, which finds the same ones and
      // adds the provider's advice to a refused password.
      {
        email: email.trim(),
        password,
        display_name: "",
        sync_window_days: SYNC_WINDOW_DAYS,
        ...(manual ? serverBody(servers) : {}),
      },
      {
        onSuccess: (account) => {
          onAdded(account);
          onClose();
        },
        onError: (error) => {
          const code = problemCode(error);
          if (code === "discovery_failed" || problemField(error)) setOpened(true);
        },
        onSettled: () => onBusy(false),
      },
    );
  };

  let summary: ReactNode = "Found from your email address";
  if (edited !== undefined) summary = `${serverSummary(servers)} (entered by you)`;
  else if (notFound) summary = "Not found — enter them below";
  else if (current && discovery.isFetching)
    summary = (
      <>
        <CircularProgress size={12} sx={{ mr: 1 }} aria-hidden />
        Looking up the servers for {address.split("@")[1]}…
      </>
    );
  else if (current && discovery.data)
    summary = `${discovery.data.provider ?? "Found"} · ${serverSummary(servers)}`;

  const emailError =
    apiErrors.email ?? (checked && !looksLikeEmail(email) ? "Enter the full address, like ada@example.com" : undefined);
  const passwordError = apiErrors.password ?? (checked && !password ? "Enter the mailbox's password" : undefined);

  return (
    <form noValidate onSubmit={submit} aria-label="Add a mailbox">
      <DialogTitle id="add-mailbox-title">Add a mailbox</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 0.5 }}>
          <Typography variant="body2" color="text.secondary">
            Postwise signs in to your mail provider the way a mail app does. Your password is
            stored encrypted on this server.
          </Typography>
          {create.isError && (
            <Alert severity="error" role="alert">
              {mailboxErrorMessage(create.error, names)}
            </Alert>
          )}
          {notFound && !create.isError && (
            <Alert severity="info">
              Couldn&apos;t find the mail servers for {address.split("@")[1]} automatically. Your
              provider&apos;s help pages list them, often under &ldquo;IMAP settings&rdquo;.
            </Alert>
          )}
          <TextField
            label="Email address"
            type="email"
            name="email"
            autoComplete="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={emailError !== undefined}
            helperText={emailError}
            required
            fullWidth
            autoFocus
            disabled={create.isPending}
            slotProps={{ htmlInput: { autoCapitalize: "none", spellCheck: false } }}
          />
          <PasswordField
            label="Password"
            name="password"
            // Not "current-password": the browser would offer the Postwise password here.
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={passwordError !== undefined}
            helperText={
              passwordError ??
              (discovery.data?.sign_in_hint && current ? discovery.data.sign_in_hint : undefined)
            }
            required
            fullWidth
            disabled={create.isPending}
          />
          <ServerSettingsSection open={settingsOpen} onToggle={() => setOpened(!settingsOpen)} summary={summary}>
            <ServerFields value={servers} onChange={change} errors={errors} disabled={create.isPending} />
          </ServerSettingsSection>
          {create.isPending && (
            <Typography role="status" variant="body2" color="text.secondary">
              Signing in to {servers.imapHost || address.split("@")[1] || "your mail server"} to
              check the connection…
            </Typography>
          )}
        </Stack>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose} disabled={create.isPending}>
          Cancel
        </Button>
        <Button type="submit" variant="contained" loading={create.isPending}>
          Connect
        </Button>
      </DialogActions>
    </form>
  );
}
