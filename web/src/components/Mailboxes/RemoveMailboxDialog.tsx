"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";

import { useDeleteAccount, type Account } from "@/api/accounts";
import { errorMessage } from "@/api/problem";

interface RemoveMailboxDialogProps {
  account: Account | undefined;
  onClose(): void;
  onRemoved(account: Account): void;
}

/** Confirm removing a mailbox: what goes (Postwise's copy) and what stays (the server's). */
export function RemoveMailboxDialog({ account, onClose, onRemoved }: RemoveMailboxDialogProps) {
  const remove = useDeleteAccount();
  const close = () => {
    if (remove.isPending) return;
    remove.reset();
    onClose();
  };
  const confirm = () => {
    if (!account) return;
    remove.mutate(account.id, {
      onSuccess: () => {
        onRemoved(account);
        remove.reset();
        onClose();
      },
    });
  };
  const local = account?.kind === "local";

  return (
    <Dialog
      open={account !== undefined}
      onClose={close}
      aria-labelledby="remove-mailbox-title"
      aria-describedby="remove-mailbox-text"
      maxWidth="xs"
      fullWidth
    >
      <DialogTitle id="remove-mailbox-title" sx={{ overflowWrap: "anywhere" }}>
        Remove {account?.display_name || account?.email}?
      </DialogTitle>
      <DialogContent>
        {remove.isError && (
          <Alert severity="error" role="alert" sx={{ mb: 2 }}>
            {errorMessage(remove.error, { not_found: "This mailbox was already removed." })}
          </Alert>
        )}
        <DialogContentText id="remove-mailbox-text">
          {account?.is_demo
            ? "The demo mail is deleted from Postwise."
            : local
              ? "Its mail is deleted from Postwise. To have it back, import the file again."
              : `Postwise deletes its copy of this mailbox's mail. The mail on ${account?.imap_host ?? "the server"} is not touched, and you can add the mailbox again later.`}
        </DialogContentText>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={close} disabled={remove.isPending} autoFocus>
          Cancel
        </Button>
        <Button color="error" variant="contained" loading={remove.isPending} onClick={confirm}>
          Remove mailbox
        </Button>
      </DialogActions>
    </Dialog>
  );
}
