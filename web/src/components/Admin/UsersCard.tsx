"use client";

import Search from "@mui/icons-material/Search";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import InputAdornment from "@mui/material/InputAdornment";
import Skeleton from "@mui/material/Skeleton";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { useState } from "react";

import { useAdminUsers, useUpdateUser, type AdminUser } from "@/api/admin";
import { errorMessage } from "@/api/problem";
import { useDebounced } from "@/components/Mailboxes/useDebounced";
import { SectionCard } from "@/components/Security/SectionCard";

import { UserRow, type UserAction } from "./UserRow";

const CHANGES: Record<UserAction, { is_active?: boolean; is_admin?: boolean }> = {
  activate: { is_active: true },
  deactivate: { is_active: false },
  make_admin: { is_admin: true },
  remove_admin: { is_admin: false },
};

const MESSAGES = {
  cannot_modify_self: "You can't deactivate yourself or remove your own admin rights.",
  not_found: "That user no longer exists.",
};

/** Everyone with an account here, with activation and admin rights. */
export function UsersCard({ selfId }: { selfId: string }) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 300);
  const users = useAdminUsers(q);
  const update = useUpdateUser();
  const [confirming, setConfirming] = useState<AdminUser | undefined>();
  const items = users.data?.pages.flatMap((page) => page.items) ?? [];
  const total = users.data?.pages[0]?.total ?? 0;

  const act = (user: AdminUser, action: UserAction) => {
    if (action === "deactivate") {
      setConfirming(user);
      return;
    }
    update.mutate({ id: user.id, changes: CHANGES[action] });
  };

  return (
    <SectionCard
      id="users"
      title="Users"
      description="Deactivated users are signed out everywhere and can't sign in until you reactivate them; their mail is kept."
    >
      <TextField
        label="Search users"
        type="search"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
        size="small"
        fullWidth
        sx={{ mb: 2, maxWidth: { sm: 360 } }}
        slotProps={{
          input: {
            startAdornment: (
              <InputAdornment position="start">
                <Search fontSize="small" aria-hidden />
              </InputAdornment>
            ),
          },
        }}
      />
      {update.isError && (
        <Alert severity="error" role="alert" sx={{ mb: 2 }}>
          {errorMessage(update.error, MESSAGES)}
        </Alert>
      )}
      {users.isPending && <Skeleton variant="rounded" height={160} />}
      {users.isError && <Alert severity="error">{errorMessage(users.error)}</Alert>}
      {users.isSuccess && items.length === 0 && (
        <Typography color="text.secondary">
          {q ? `No user matches “${q}”.` : "No users yet."}
        </Typography>
      )}
      {items.length > 0 && (
        <Box
          component="ul"
          aria-label="Users"
          sx={{
            m: 0,
            p: 0,
            border: 1,
            borderColor: "divider",
            borderRadius: 1,
            "& > li + li": { borderTop: 1, borderColor: "divider" },
          }}
        >
          {items.map((user) => (
            <UserRow
              key={user.id}
              user={user}
              self={user.id === selfId}
              busy={update.isPending && update.variables.id === user.id}
              onAction={act}
            />
          ))}
        </Box>
      )}
      {users.hasNextPage && (
        <Button onClick={() => void users.fetchNextPage()} loading={users.isFetchingNextPage} sx={{ mt: 1 }}>
          Show more ({total - items.length} more)
        </Button>
      )}
      <Dialog
        open={confirming !== undefined}
        onClose={() => setConfirming(undefined)}
        aria-labelledby="deactivate-title"
        maxWidth="xs"
        fullWidth
      >
        <DialogTitle id="deactivate-title" sx={{ overflowWrap: "anywhere" }}>
          Deactivate {confirming?.name || confirming?.email}?
        </DialogTitle>
        <DialogContent>
          <DialogContentText>
            They are signed out on every device and can&apos;t sign in until you reactivate them.
            Their mailboxes and mail stay as they are.
          </DialogContentText>
        </DialogContent>
        <DialogActions sx={{ px: 3, pb: 2 }}>
          <Button onClick={() => setConfirming(undefined)} autoFocus>
            Cancel
          </Button>
          <Button
            color="error"
            variant="contained"
            onClick={() => {
              if (confirming) update.mutate({ id: confirming.id, changes: CHANGES.deactivate });
              setConfirming(undefined);
            }}
          >
            Deactivate
          </Button>
        </DialogActions>
      </Dialog>
    </SectionCard>
  );
}
