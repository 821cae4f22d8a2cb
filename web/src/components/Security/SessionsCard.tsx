"use client";

import ComputerOutlined from "@mui/icons-material/ComputerOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";

import { errorMessage } from "@/api/problem";
import { useRevokeOtherSessions, useRevokeSession, useSessions } from "@/api/sessions";
import { useAuth } from "@/auth/AuthProvider";

import { formatDateTime, formatRelative } from "./format";
import { SectionCard } from "./SectionCard";
import { describeUserAgent } from "./userAgent";

/**
 * Where the account is signed in, with a way to end any other session. A list rather than a
 * table: at phone width five columns of dates and addresses cannot fit, and a row that wraps
 * its details under the device name reads well at any width.
 */
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
        <Box
          component="ul"
          aria-label="Signed-in devices"
          sx={{
            m: 0,
            p: 0,
            border: 1,
            borderColor: "divider",
            borderRadius: 1,
            "& > li + li": { borderTop: 1, borderColor: "divider" },
          }}
        >
          {items.map((session) => {
            const device = describeUserAgent(session.user_agent);
            const busy = revoke.isPending && revoke.variables === session.id;
            return (
              <Box
                component="li"
                key={session.id}
                data-testid="session-row"
                data-session-id={session.id}
                sx={{
                  listStyle: "none",
                  display: "flex",
                  alignItems: "flex-start",
                  gap: 1.5,
                  px: { xs: 1.5, sm: 2 },
                  py: 1.5,
                }}
              >
                <ComputerOutlined color="action" sx={{ mt: 0.25 }} aria-hidden />
                <Box sx={{ flexGrow: 1, minWidth: 0 }}>
                  <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}>
                    <Tooltip title={session.user_agent ?? ""}>
                      <Typography component="span" sx={{ fontWeight: 500 }}>
                        {device}
                      </Typography>
                    </Tooltip>
                    {session.current && (
                      <Chip label="This device" size="small" color="primary" variant="outlined" />
                    )}
                  </Box>
                  <Typography variant="body2" color="text.secondary" sx={{ overflowWrap: "anywhere" }}>
                    {session.ip ?? "Unknown address"} · signed in {formatDateTime(session.created_at)}
                    {" · "}
                    <Tooltip title={formatDateTime(session.last_seen_at)}>
                      <span>active {formatRelative(session.last_seen_at)}</span>
                    </Tooltip>
                  </Typography>
                </Box>
                {!session.current && (
                  <Button
                    size="small"
                    color="error"
                    loading={busy}
                    disabled={revokeOthers.isPending}
                    aria-label={`Sign out ${device}${session.ip ? ` (${session.ip})` : ""}`}
                    onClick={() => revoke.mutate(session.id)}
                    sx={{ flexShrink: 0 }}
                  >
                    Sign out
                  </Button>
                )}
              </Box>
            );
          })}
        </Box>
      )}
      <Stack direction="row" sx={{ mt: 2, flexWrap: "wrap", gap: 1 }}>
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
