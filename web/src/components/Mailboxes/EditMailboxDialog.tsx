"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import Stack from "@mui/material/Stack";
import { useTheme } from "@mui/material/styles";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useState, type FormEvent } from "react";

import { useUpdateAccount, type Account, type AccountUpdate } from "@/api/accounts";
import { fieldErrors } from "@/api/problem";
import { PasswordField } from "@/components/Password/PasswordField";

import { mailboxErrorMessage, problemField } from "./messages";
import {
  API_FIELDS,
  applyChange,
  fromAccount,
  serverBody,
  serverFormErrors,
  serverSummary,
  type ServerField,
} from "./serverForm";
import { ServerFields } from "./ServerFields";
import { ServerSettingsSection } from "./ServerSettingsSection";

interface EditMailboxDialogProps {
  /** The mailbox being edited; closed when undefined. */
  account: Account | undefined;
  /** Open the server settings at once (the mailbox's sign-in is failing). */
  focusServers?: boolean;
  onClose(): void;
  onSaved(account: Account): void;
}

/** Rename a mailbox, give it a new password or other servers (tested before saving). */
export function EditMailboxDialog({ account, focusServers, onClose, onSaved }: EditMailboxDialogProps) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down("sm"));
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      open={account !== undefined}
      onClose={busy ? undefined : onClose}
      aria-labelledby="edit-mailbox-title"
      maxWidth="sm"
      fullWidth
      fullScreen={phone}
    >
      {account && (
        <EditMailboxForm
          key={account.id}
          account={account}
          focusServers={focusServers ?? false}
          onClose={onClose}
          onSaved={onSaved}
          onBusy={setBusy}
        />
      )}
    </Dialog>
  );
}

function EditMailboxForm({
  account,
  focusServers,
  onClose,
  onSaved,
  onBusy,
}: {
  account: Account;
  focusServers: boolean;
  onClose(): void;
  onSaved(account: Account): void;
  onBusy(busy: boolean): void;
}) {
  const local = account.kind === "local";
  const [name, setName] = useState(account.display_name);
  const [password, setPassword] = useState("");
  const [servers, setServers] = useState(() => fromAccount(account));
  const [opened, setOpened] = useState(focusServers);
  const update = useUpdateAccount();
  const original = fromAccount(account);
  const serversChanged = JSON.stringify(servers) !== JSON.stringify(original);
  const nameChanged = name.trim() !== account.display_name;
  const changed = nameChanged || serversChanged || password !== "";

  const localErrors = serversChanged ? serverFormErrors(servers) : {};
  const errors: Partial<Record<ServerField, string>> = { ...localErrors };
  const apiErrors = fieldErrors(update.error);
  for (const [field, message] of Object.entries(apiErrors)) {
    const mapped = API_FIELDS[field];
    if (mapped) errors[mapped] ??= message;
  }
  const failed = problemField(update.error);
  if (failed) errors[API_FIELDS[failed] as ServerField] ??= "";

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!changed || Object.keys(localErrors).length > 0) return;
    const changes: AccountUpdate = {};
    if (nameChanged) changes.display_name = name.trim();
    if (password) changes.password = password;
    if (serversChanged) {
      const body = serverBody(servers);
      // The user name left empty means the address, as when the mailbox was added.
      Object.assign(changes, body, { username: body.username ?? account.email });
    }
    onBusy(true);
    update.mutate(
      { id: account.id, changes },
      {
        onSuccess: (saved) => {
          onSaved(saved);
          onClose();
        },
        onError: (error) => {
          if (problemField(error)) setOpened(true);
        },
        onSettled: () => onBusy(false),
      },
    );
  };

  const reconnecting = password !== "" || serversChanged;

  return (
    <form noValidate onSubmit={submit} aria-label={`Edit ${account.email}`}>
      <DialogTitle id="edit-mailbox-title" sx={{ overflowWrap: "anywhere" }}>
        Edit {account.email}
      </DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 0.5 }}>
          {update.isError && (
            <Alert severity="error" role="alert">
              {mailboxErrorMessage(update.error, {
                email: account.email,
                imapHost: servers.imapHost,
                smtpHost: servers.smtpHost,
              })}
            </Alert>
          )}
          <TextField
            label="Name"
            name="display_name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            error={apiErrors.display_name !== undefined}
            helperText={apiErrors.display_name ?? "How this mailbox is listed in Postwise, e.g. Work"}
            fullWidth
            autoFocus={!focusServers}
            disabled={update.isPending}
          />
          {!local && (
            <>
              <PasswordField
                label="New password"
                name="password"
                autoComplete="new-password"
                value={password}
                onChange={(event) => setPassword(event.target.value)}
                error={apiErrors.password !== undefined}
                helperText={apiErrors.password ?? "Leave empty to keep the current password"}
                fullWidth
                disabled={update.isPending}
              />
              <ServerSettingsSection
                open={opened}
                onToggle={() => setOpened(!opened)}
                summary={serverSummary(servers)}
              >
                <ServerFields
                  value={servers}
                  onChange={(field, value) => setServers(applyChange(servers, field, value))}
                  errors={errors}
                  disabled={update.isPending}
                />
              </ServerSettingsSection>
            </>
          )}
          {update.isPending && reconnecting && (
            <Typography role="status" variant="body2" color="text.secondary">
              Signing in to {servers.imapHost} to check the new settings…
            </Typography>
          )}
        </Stack>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose} disabled={update.isPending}>
          Cancel
        </Button>
        <Button type="submit" variant="contained" loading={update.isPending} disabled={!changed}>
          Save
        </Button>
      </DialogActions>
    </form>
  );
}
