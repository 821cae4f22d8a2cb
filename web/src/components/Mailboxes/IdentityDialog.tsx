"use client";

import Add from "@mui/icons-material/Add";
import Close from "@mui/icons-material/Close";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import IconButton from "@mui/material/IconButton";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import { useTheme } from "@mui/material/styles";
import TextField from "@mui/material/TextField";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";
import useMediaQuery from "@mui/material/useMediaQuery";
import { useState, type FormEvent } from "react";

import type { Account } from "@/api/accounts";
import { useIdentity, useSaveIdentity, type IdentityOut } from "@/api/outbox";
import { errorMessage } from "@/api/problem";

import {
  fromIdentity,
  LIMITS,
  newRow,
  serverErrors,
  toIdentity,
  validateIdentity,
  type IdentityForm,
  type SendAsRow,
} from "./identityForm";

interface IdentityDialogProps {
  /** The mailbox whose identity is edited; closed when undefined. */
  account: Account | undefined;
  onClose(): void;
  onSaved(account: Account): void;
}

/** A mailbox's name and signature: who its mail is from, other addresses it sends as. */
export function IdentityDialog({ account, onClose, onSaved }: IdentityDialogProps) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down("sm"));
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      open={account !== undefined}
      onClose={busy ? undefined : onClose}
      aria-labelledby="identity-title"
      maxWidth="sm"
      fullWidth
      fullScreen={phone}
    >
      {account && <IdentityLoader key={account.id} account={account} onClose={onClose} onSaved={onSaved} onBusy={setBusy} />}
    </Dialog>
  );
}

interface LoaderProps {
  account: Account;
  onClose(): void;
  onSaved(account: Account): void;
  onBusy(busy: boolean): void;
}

function IdentityLoader(props: LoaderProps) {
  const identity = useIdentity(props.account.id);
  if (identity.isSuccess) return <IdentityFormView {...props} identity={identity.data} />;
  return (
    <>
      <DialogTitle id="identity-title" sx={{ overflowWrap: "anywhere" }}>
        Name and signature
      </DialogTitle>
      <DialogContent>
        {identity.isError ? (
          <Alert
            severity="error"
            action={
              <Button color="inherit" size="small" onClick={() => void identity.refetch()}>
                Try again
              </Button>
            }
          >
            {`Couldn’t load the settings of ${props.account.email}. ${errorMessage(identity.error)}`}
          </Alert>
        ) : (
          <Stack spacing={2} aria-busy="true" aria-label="Loading">
            <Skeleton variant="rounded" height={56} />
            <Skeleton variant="rounded" height={40} />
            <Skeleton variant="rounded" height={120} />
          </Stack>
        )}
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={props.onClose}>Cancel</Button>
      </DialogActions>
    </>
  );
}

function IdentityFormView({ account, identity, onClose, onSaved, onBusy }: LoaderProps & { identity: IdentityOut }) {
  const [form, setForm] = useState<IdentityForm>(() => fromIdentity(identity));
  const [checked, setChecked] = useState(false);
  const [showHtml, setShowHtml] = useState(identity.signature_html.trim() !== "");
  const save = useSaveIdentity();

  const local = validateIdentity(form, account.email);
  const remote = serverErrors(save.error, form);
  // Before the first save only what the user fixes shows; after it, everything still wrong.
  const errors = { ...remote.fields, ...(checked ? local : {}) };
  const change = (next: Partial<IdentityForm>) => {
    setForm((current) => ({ ...current, ...next }));
    if (save.isError) save.reset();
  };
  const setRow = (key: number, next: Partial<SendAsRow>) =>
    change({ sendAs: form.sendAs.map((row) => (row.key === key ? { ...row, ...next } : row)) });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(local).length > 0) {
      if (local.signature_html) setShowHtml(true);
      return;
    }
    onBusy(true);
    save.mutate(
      { accountId: account.id, identity: toIdentity(form) },
      {
        onSuccess: () => {
          onSaved(account);
          onClose();
        },
        onError: (error) => {
          if (serverErrors(error, form).fields.signature_html) setShowHtml(true);
        },
        onSettled: () => onBusy(false),
      },
    );
  };

  const pending = save.isPending;
  return (
    <form noValidate onSubmit={submit} aria-label={`Name and signature of ${account.email}`}>
      <DialogTitle id="identity-title" sx={{ overflowWrap: "anywhere" }}>
        Name and signature
        <Typography variant="body2" color="text.secondary" component="span" sx={{ display: "block" }}>
          {account.email}
        </Typography>
      </DialogTitle>
      <DialogContent>
        <Stack spacing={2.5} sx={{ pt: 0.5 }}>
          {save.isError && remote.other && (
            <Alert severity="error" role="alert">
              {`Couldn’t save. ${errorMessage(save.error)}`}
            </Alert>
          )}
          <TextField
            label="Your name"
            name="sender_name"
            value={form.senderName}
            onChange={(event) => change({ senderName: event.target.value })}
            error={errors.sender_name !== undefined}
            helperText={errors.sender_name ?? "Recipients see it beside your address"}
            autoComplete="name"
            fullWidth
            autoFocus
            disabled={pending}
            slotProps={{ htmlInput: { maxLength: LIMITS.name + 50 } }}
          />
          <SendAsSection
            rows={form.sendAs}
            errors={errors}
            disabled={pending}
            onChange={setRow}
            onAdd={() => change({ sendAs: [...form.sendAs, newRow()] })}
            onRemove={(key) => change({ sendAs: form.sendAs.filter((row) => row.key !== key) })}
          />
          <SignatureSection
            text={form.signatureText}
            html={form.signatureHtml}
            showHtml={showHtml}
            errors={errors}
            disabled={pending}
            onChange={change}
            onShowHtml={() => setShowHtml(true)}
          />
        </Stack>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose} disabled={pending}>
          Cancel
        </Button>
        <Button type="submit" variant="contained" loading={pending}>
          Save
        </Button>
      </DialogActions>
    </form>
  );
}

interface SignatureSectionProps {
  text: string;
  html: string;
  showHtml: boolean;
  errors: Record<string, string>;
  disabled: boolean;
  onChange(next: Partial<IdentityForm>): void;
  onShowHtml(): void;
}

/** The plain signature, and on request a formatted (HTML) one for rich-text messages. */
function SignatureSection({ text, html, showHtml, errors, disabled, onChange, onShowHtml }: SignatureSectionProps) {
  return (
    <>
      <TextField
        label="Signature"
        name="signature_text"
        value={text}
        onChange={(event) => onChange({ signatureText: event.target.value })}
        error={errors.signature_text !== undefined}
        helperText={errors.signature_text ?? "Added below new messages, and above the quote in replies"}
        multiline
        minRows={3}
        maxRows={10}
        fullWidth
        disabled={disabled}
        slotProps={{ htmlInput: { spellCheck: true } }}
      />
      {showHtml ? (
        <TextField
          label="Formatted signature (HTML)"
          name="signature_html"
          value={html}
          onChange={(event) => onChange({ signatureHtml: event.target.value })}
          error={errors.signature_html !== undefined}
          helperText={
            errors.signature_html ??
            "Used instead of the one above in formatted messages. Scripts and remote content are removed when saved."
          }
          multiline
          minRows={3}
          maxRows={10}
          fullWidth
          disabled={disabled}
          slotProps={{ htmlInput: { spellCheck: false, style: { fontFamily: "monospace" } } }}
        />
      ) : (
        <Box>
          <Button size="small" onClick={onShowHtml} disabled={disabled}>
            Add a formatted (HTML) signature
          </Button>
        </Box>
      )}
    </>
  );
}

interface SendAsSectionProps {
  rows: readonly SendAsRow[];
  errors: Record<string, string>;
  disabled: boolean;
  onChange(key: number, next: Partial<SendAsRow>): void;
  onAdd(): void;
  onRemove(key: number): void;
}

function SendAsSection({ rows, errors, disabled, onChange, onAdd, onRemove }: SendAsSectionProps) {
  return (
    <Box component="fieldset" sx={{ border: 0, m: 0, p: 0, minWidth: 0 }}>
      <Typography component="legend" variant="subtitle2" sx={{ p: 0 }}>
        Also send as
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
        Other addresses your mail server lets this mailbox send from, such as aliases. You choose among them in From when
        you write.
      </Typography>
      {errors.send_as && (
        <Typography variant="body2" color="error" role="alert" sx={{ mb: 1 }}>
          {errors.send_as}
        </Typography>
      )}
      <Stack spacing={1.5}>
        {rows.map((row, index) => {
          const nameError = errors[`send_as[${index}].name`];
          const addressError = errors[`send_as[${index}].address`];
          const which = `address ${index + 1}`;
          return (
            <Stack key={row.key} direction={{ xs: "column", sm: "row" }} spacing={1} sx={{ alignItems: { sm: "flex-start" } }}>
              <TextField
                label="Name"
                value={row.name}
                onChange={(event) => onChange(row.key, { name: event.target.value })}
                error={nameError !== undefined}
                helperText={nameError}
                size="small"
                disabled={disabled}
                sx={{ flex: 2 }}
                slotProps={{ htmlInput: { "aria-label": `Name for ${which}` } }}
              />
              <Box sx={{ display: "flex", alignItems: "flex-start", gap: 0.5, flex: 3 }}>
                <TextField
                  label="Address"
                  type="email"
                  value={row.address}
                  onChange={(event) => onChange(row.key, { address: event.target.value })}
                  error={addressError !== undefined}
                  helperText={addressError}
                  size="small"
                  fullWidth
                  disabled={disabled}
                  autoFocus={row.name === "" && row.address === "" && index === rows.length - 1}
                  slotProps={{ htmlInput: { "aria-label": `Email ${which}`, autoComplete: "off" } }}
                />
                <Tooltip title="Remove">
                  <span>
                    <IconButton aria-label={`Remove ${row.address.trim() || which}`} onClick={() => onRemove(row.key)} disabled={disabled}>
                      <Close fontSize="small" />
                    </IconButton>
                  </span>
                </Tooltip>
              </Box>
            </Stack>
          );
        })}
      </Stack>
      <Button startIcon={<Add />} onClick={onAdd} disabled={disabled || rows.length >= LIMITS.sendAs} sx={{ mt: 1 }} size="small">
        Add an address
      </Button>
    </Box>
  );
}
