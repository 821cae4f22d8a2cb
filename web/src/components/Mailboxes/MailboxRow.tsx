"use client";

import CheckCircleOutlined from "@mui/icons-material/CheckCircleOutlined";
import DeleteOutlineOutlined from "@mui/icons-material/DeleteOutlineOutlined";
import DrawOutlined from "@mui/icons-material/DrawOutlined";
import EditOutlined from "@mui/icons-material/EditOutlined";
import ErrorOutlineOutlined from "@mui/icons-material/ErrorOutlineOutlined";
import Sync from "@mui/icons-material/Sync";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import CircularProgress from "@mui/material/CircularProgress";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";

import type { Account } from "@/api/accounts";

import { describeSync } from "./syncStatus";

interface MailboxRowProps {
  account: Account;
  now: number;
  syncing: boolean;
  onSync(account: Account): void;
  onEdit(account: Account, servers: boolean): void;
  /** Open "Name and signature"; absent where there is nothing to send with. */
  onIdentity?(account: Account): void;
  onRemove(account: Account): void;
}

const number = new Intl.NumberFormat();

// Sign-in and server problems are fixed in the settings; the others pass on their own.
const SETTINGS_CODES = new Set([
  "auth_failed",
  "host_unreachable",
  "host_not_allowed",
  "tls_error",
  "not_imap",
  "not_smtp",
  "timeout",
]);

function StatusIcon({ tone }: { tone: "ok" | "busy" | "error" }) {
  if (tone === "busy") return <CircularProgress size={18} thickness={5} aria-hidden sx={{ m: "3px" }} />;
  if (tone === "error") return <ErrorOutlineOutlined color="error" aria-hidden />;
  return <CheckCircleOutlined color="success" aria-hidden />;
}

/** One mailbox: its name, how its sync is going, and what can be done with it. */
export function MailboxRow({ account, now, syncing, onSync, onEdit, onIdentity, onRemove }: MailboxRowProps) {
  const status = describeSync(account, now);
  const title = account.display_name || account.email;
  const { messages, unread } = account.counts;
  const fixable = account.sync_state === "error" && SETTINGS_CODES.has(account.last_error_code ?? "");

  return (
    <Box
      component="li"
      data-testid="mailbox-row"
      aria-label={title}
      sx={{ listStyle: "none", px: { xs: 1.5, sm: 2 }, py: 1.5 }}
    >
      {/* At phone width the actions move under the text, which then has the whole width. */}
      <Box sx={{ display: "flex", alignItems: "flex-start", columnGap: 1.5, flexWrap: { xs: "wrap", sm: "nowrap" } }}>
        <Box sx={{ pt: 0.25, display: "flex", width: 24, justifyContent: "center" }}>
          <StatusIcon tone={status.tone} />
        </Box>
        <Box sx={{ flex: "1 1 0", minWidth: 0 }}>
          <Typography sx={{ fontWeight: 600, overflowWrap: "anywhere" }}>{title}</Typography>
          {account.display_name && (
            <Typography variant="body2" color="text.secondary" sx={{ overflowWrap: "anywhere" }}>
              {account.email}
            </Typography>
          )}
          <Typography
            variant="body2"
            color={status.tone === "error" ? "error" : "text.secondary"}
            data-testid="mailbox-status"
          >
            {status.label}
            {/* The first sync's label already counts what has arrived. */}
            {account.kind === "imap" &&
              account.sync_state !== "initial" &&
              messages > 0 &&
              ` · ${number.format(messages)} messages`}
            {unread > 0 && ` · ${number.format(unread)} unread`}
          </Typography>
        </Box>
        <Box sx={{ display: "flex", flexShrink: 0, pl: { xs: "28px", sm: 0 }, width: { xs: "100%", sm: "auto" } }}>
          {account.kind === "imap" && (
            <Tooltip title="Sync now">
              <span>
                <IconButton
                  aria-label={`Sync ${account.email} now`}
                  onClick={() => onSync(account)}
                  disabled={syncing}
                >
                  {syncing ? <CircularProgress size={20} aria-hidden /> : <Sync />}
                </IconButton>
              </span>
            </Tooltip>
          )}
          {onIdentity && (
            <Tooltip title="Name and signature">
              <IconButton aria-label={`Name and signature of ${account.email}`} onClick={() => onIdentity(account)}>
                <DrawOutlined />
              </IconButton>
            </Tooltip>
          )}
          <Tooltip title="Edit">
            <IconButton aria-label={`Edit ${account.email}`} onClick={() => onEdit(account, false)}>
              <EditOutlined />
            </IconButton>
          </Tooltip>
          <Tooltip title="Remove">
            <IconButton aria-label={`Remove ${account.email}`} onClick={() => onRemove(account)}>
              <DeleteOutlineOutlined />
            </IconButton>
          </Tooltip>
        </Box>
      </Box>
      {status.detail && (
        <Alert
          severity="error"
          sx={{ mt: 1.5, ml: { sm: 4.5 } }}
          action={
            fixable ? (
              <Button color="inherit" size="small" onClick={() => onEdit(account, true)} sx={{ whiteSpace: "nowrap" }}>
                Fix settings
              </Button>
            ) : undefined
          }
        >
          {status.detail}
        </Alert>
      )}
    </Box>
  );
}
