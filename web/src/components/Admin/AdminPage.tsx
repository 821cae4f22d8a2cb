"use client";

import LockOutlined from "@mui/icons-material/LockOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";

import { errorMessage } from "@/api/problem";
import { useMe } from "@/api/users";

import { InvitesCard } from "./InvitesCard";
import { RegistrationCard } from "./RegistrationCard";
import { UsersCard } from "./UsersCard";

/** Administration: the instance's users, invitations and sign-up mode (admins only). */
export function AdminPage() {
  const me = useMe();

  if (me.isPending) {
    return (
      <Box aria-busy="true" aria-label="Loading" sx={{ maxWidth: 900 }}>
        <Skeleton width={220} height={40} />
        <Skeleton variant="rounded" height={240} sx={{ mt: 2 }} />
      </Box>
    );
  }
  if (me.isError) return <Alert severity="error">{errorMessage(me.error)}</Alert>;

  if (!me.data.is_admin) {
    return (
      <Box
        component="section"
        aria-labelledby="admin-title"
        sx={{ textAlign: "center", py: { xs: 6, sm: 10 }, px: 2 }}
      >
        <LockOutlined color="action" sx={{ fontSize: 48, mb: 1 }} aria-hidden />
        <Typography id="admin-title" variant="h5" component="h1" sx={{ mb: 1 }}>
          Administration isn&apos;t available
        </Typography>
        <Typography color="text.secondary" sx={{ mb: 3 }}>
          Only this server&apos;s administrators manage its users and sign-up.
        </Typography>
        <Button component={NextLink} href="/" variant="outlined">
          Back to the inbox
        </Button>
      </Box>
    );
  }

  return (
    <Box component="section" aria-labelledby="admin-title" sx={{ maxWidth: 900, width: "100%" }}>
      <Typography id="admin-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        Administration
      </Typography>
      <Stack spacing={3}>
        <UsersCard selfId={me.data.id} />
        <InvitesCard />
        <RegistrationCard />
      </Stack>
    </Box>
  );
}
