"use client";

import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import Table from "@mui/material/Table";
import TableBody from "@mui/material/TableBody";
import TableCell from "@mui/material/TableCell";
import TableContainer from "@mui/material/TableContainer";
import TableHead from "@mui/material/TableHead";
import TableRow from "@mui/material/TableRow";
import Tooltip from "@mui/material/Tooltip";

import { errorMessage } from "@/api/problem";
import { useRevokeOtherSessions, useRevokeSession, useSessions } from "@/api/sessions";
import { useAuth } from "@/auth/AuthProvider";

import { formatDateTime, formatRelative } from "./format";
import { SectionCard } from "./SectionCard";
import { describeUserAgent } from "./userAgent";

const visuallyHidden = {
  position: "absolute",
  width: 1,
  height: 1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
} as const;

/** Where the account is signed in, with a way to end any other session. */
export function SessionsCard() {
  const sessions = useSessions();
  const revoke = useRevokeSession();
  const revokeOthers = useRevokeOtherSessions();
  const { signOutEverywhere } = useAuth();
  const items = sessions.data ?? [];
  const others = items.filter((session) => !session.current);
  const failure = revoke.error ?? revokeOthers.error;

  return (
    <SectionCard
      id="sessions"
      title="Signed-in devices"
      description={
        "Every browser or app signed in to this account. " +
        "Sign out any you do not recognise, then change your password."
      }
    >
      {failure && (
        <Alert severity="error" role="alert" sx={{ mb: 2 }}>
          {errorMessage(failure, { not_found: "That session had already ended." })}
        </Alert>
      )}
      {sessions.isPending && <Skeleton variant="rounded" height={120} />}
      {sessions.isError && <Alert severity="error">{errorMessage(sessions.error)}</Alert>}
      {sessions.isSuccess && (
        <TableContainer>
          <Table size="small" aria-label="Signed-in devices">
            <TableHead>
              <TableRow>
                <TableCell>Device</TableCell>
                <TableCell>IP address</TableCell>
                <TableCell>Signed in</TableCell>
                <TableCell>Last active</TableCell>
                <TableCell align="right">
                  <Box component="span" sx={visuallyHidden}>
                    Actions
                  </Box>
                </TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map((session) => {
                const device = describeUserAgent(session.user_agent);
                const busy = revoke.isPending && revoke.variables === session.id;
                return (
                  <TableRow key={session.id} data-testid="session-row" data-session-id={session.id}>
                    <TableCell>
                      <Tooltip title={session.user_agent ?? ""}>
                        <span>{device}</span>
                      </Tooltip>
                      {session.current && (
                        <Chip
                          label="This device"
                          size="small"
                          color="primary"
                          variant="outlined"
                          sx={{ ml: 1 }}
                        />
                      )}
                    </TableCell>
                    <TableCell sx={{ fontFamily: "monospace" }}>{session.ip ?? "—"}</TableCell>
                    <TableCell>{formatDateTime(session.created_at)}</TableCell>
                    <TableCell>
                      <Tooltip title={formatDateTime(session.last_seen_at)}>
                        <span>{formatRelative(session.last_seen_at)}</span>
                      </Tooltip>
                    </TableCell>
                    <TableCell align="right">
                      {!session.current && (
                        <Button
                          size="small"
                          color="error"
                          loading={busy}
                          disabled={revokeOthers.isPending}
                          aria-label={`Sign out ${device}${session.ip ? ` (${session.ip})` : ""}`}
                          onClick={() => revoke.mutate(session.id)}
                        >
                          Sign out
                        </Button>
                      )}
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </TableContainer>
      )}
      <Stack direction="row" spacing={1} sx={{ mt: 2, flexWrap: "wrap", gap: 1 }}>
        {others.length > 0 && (
          <Button
            variant="outlined"
            loading={revokeOthers.isPending}
            onClick={() => revokeOthers.mutate(items)}
          >
            Sign out all other devices
          </Button>
        )}
        <Button color="error" onClick={() => void signOutEverywhere()}>
          Sign out everywhere, including here
        </Button>
      </Stack>
    </SectionCard>
  );
}
