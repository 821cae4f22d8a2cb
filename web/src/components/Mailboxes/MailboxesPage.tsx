"use client";

import Add from "@mui/icons-material/Add";
import ArrowBack from "@mui/icons-material/ArrowBack";
import MarkunreadMailboxOutlined from "@mui/icons-material/MarkunreadMailboxOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Paper from "@mui/material/Paper";
import Skeleton from "@mui/material/Skeleton";
import Snackbar from "@mui/material/Snackbar";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { useAccounts, useSyncAccount, type Account } from "@/api/accounts";
import { errorMessage } from "@/api/problem";

import { AddMailboxDialog } from "./AddMailboxDialog";
import { EditMailboxDialog } from "./EditMailboxDialog";
import { IdentityDialog } from "./IdentityDialog";
import { ImportCard } from "./ImportCard";
import { MailboxRow } from "./MailboxRow";
import { RemoveMailboxDialog } from "./RemoveMailboxDialog";

/** Relative times ("synced 3 minutes ago") move on while the page stays open. */
function useNow(interval = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), interval);
    return () => clearInterval(timer);
  }, [interval]);
  return now;
}

/** Settings → Mailboxes: the connected mailboxes, adding one, and importing mail. */
export function MailboxesPage() {
  const accounts = useAccounts();
  const sync = useSyncAccount();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const now = useNow();
  // `?add=1` (the first-run screen's "Add a mailbox") opens the form at once.
  const [adding, setAdding] = useState(() => params.get("add") === "1");
  const [editing, setEditing] = useState<{ account: Account; servers: boolean } | undefined>();
  const [removing, setRemoving] = useState<Account | undefined>();
  const [identity, setIdentity] = useState<Account | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  const closeAdd = () => {
    setAdding(false);
    // Drop ?add=1 so a reload or the back button does not open the form again.
    if (params.get("add") !== null) router.replace(pathname);
  };

  const startSync = (account: Account) =>
    sync.mutate(account.id, {
      onSuccess: () => setNotice(`Checking ${account.email} for new mail`),
      onError: (error) =>
        setNotice(errorMessage(error, { not_syncable: "This mailbox has no server to sync with." })),
    });

  const items = accounts.data ?? [];

  return (
    <Box component="section" aria-labelledby="mailboxes-title" sx={{ maxWidth: 900, width: "100%" }}>
      <Button component={NextLink} href="/settings/" startIcon={<ArrowBack />} size="small" sx={{ mb: 1 }}>
        Settings
      </Button>
      <Box sx={{ display: "flex", alignItems: "center", gap: 2, mb: 2, flexWrap: "wrap" }}>
        <Typography id="mailboxes-title" variant="h5" component="h1" sx={{ flexGrow: 1 }}>
          Mailboxes
        </Typography>
        {items.length > 0 && (
          <Button variant="contained" startIcon={<Add />} onClick={() => setAdding(true)}>
            Add a mailbox
          </Button>
        )}
      </Box>
      <Stack spacing={3}>
        {accounts.isPending && (
          <Paper variant="outlined" aria-busy="true" aria-label="Loading mailboxes">
            {[0, 1].map((key) => (
              <Box key={key} sx={{ display: "flex", gap: 1.5, p: 2 }}>
                <Skeleton variant="circular" width={24} height={24} />
                <Box sx={{ flexGrow: 1 }}>
                  <Skeleton width="40%" />
                  <Skeleton width="65%" />
                </Box>
              </Box>
            ))}
          </Paper>
        )}
        {accounts.isError && (
          <Alert
            severity="error"
            action={
              <Button color="inherit" size="small" onClick={() => void accounts.refetch()}>
                Try again
              </Button>
            }
          >
            Couldn&apos;t load your mailboxes. {errorMessage(accounts.error)}
          </Alert>
        )}
        {accounts.isSuccess && items.length === 0 && (
          <Paper variant="outlined" sx={{ p: { xs: 3, sm: 5 }, textAlign: "center" }}>
            <MarkunreadMailboxOutlined color="action" sx={{ fontSize: 48 }} aria-hidden />
            <Typography variant="h6" component="h2" sx={{ mt: 1 }}>
              No mailboxes yet
            </Typography>
            <Typography color="text.secondary" sx={{ mb: 2 }}>
              Add the mailbox you use with Gmail, Outlook, iCloud, Fastmail or any IMAP provider.
            </Typography>
            <Button variant="contained" startIcon={<Add />} onClick={() => setAdding(true)}>
              Add a mailbox
            </Button>
          </Paper>
        )}
        {items.length > 0 && (
          <Paper
            variant="outlined"
            component="ul"
            aria-label="Your mailboxes"
            sx={{ m: 0, p: 0, "& > li + li": { borderTop: 1, borderColor: "divider" } }}
          >
            {items.map((account) => (
              <MailboxRow
                key={account.id}
                account={account}
                now={now}
                syncing={sync.isPending && sync.variables === account.id}
                onSync={startSync}
                onEdit={(chosen, servers) => setEditing({ account: chosen, servers })}
                onIdentity={account.kind === "imap" ? setIdentity : undefined}
                onRemove={setRemoving}
              />
            ))}
          </Paper>
        )}
        <ImportCard />
      </Stack>

      <AddMailboxDialog
        open={adding}
        onClose={closeAdd}
        onAdded={(account) => setNotice(`${account.email} is connected. The first sync has started.`)}
      />
      <EditMailboxDialog
        account={editing?.account}
        focusServers={editing?.servers}
        onClose={() => setEditing(undefined)}
        onSaved={(account) => setNotice(`Saved the changes to ${account.email}`)}
      />
      <IdentityDialog
        account={identity}
        onClose={() => setIdentity(undefined)}
        onSaved={(account) => setNotice(`Saved the name and signature of ${account.email}`)}
      />
      <RemoveMailboxDialog
        account={removing}
        onClose={() => setRemoving(undefined)}
        onRemoved={(account) => setNotice(`Removed ${account.email}`)}
      />
      <Snackbar
        open={notice !== undefined}
        message={notice}
        autoHideDuration={5000}
        onClose={() => setNotice(undefined)}
        anchorOrigin={{ vertical: "bottom", horizontal: "center" }}
      />
    </Box>
  );
}
