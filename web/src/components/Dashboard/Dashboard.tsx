"use client";

import MarkunreadMailboxOutlined from "@mui/icons-material/MarkunreadMailboxOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import ToggleButton from "@mui/material/ToggleButton";
import ToggleButtonGroup from "@mui/material/ToggleButtonGroup";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useState } from "react";

import { DASHBOARD_PERIODS, useDashboard, type DashboardPeriod } from "@/api/dashboard";
import { errorMessage } from "@/api/problem";
import { AssistantCards } from "@/components/Assistant/AssistantCards";

import { ActivityCard } from "./ActivityCard";
import { MailboxesCard } from "./MailboxesCard";
import { TopSendersCard } from "./TopSendersCard";
import { UnreadCard } from "./UnreadCard";
import { WaitingCard } from "./WaitingCard";

const GRID = {
  display: "grid",
  gap: 2,
  gridTemplateColumns: { xs: "minmax(0, 1fr)", md: "repeat(2, minmax(0, 1fr))" },
} as const;
const WIDE = { gridColumn: { md: "1 / -1" } } as const;

/** `/dashboard`: the mail of the last weeks at a glance, from one `GET /api/dashboard`. */
export function Dashboard() {
  const [days, setDays] = useState<DashboardPeriod>(30);
  const dashboard = useDashboard(days);
  const data = dashboard.data;
  const hasMailbox = data !== undefined && data.mailboxes.length > 0;

  return (
    <Box component="section" aria-labelledby="dashboard-title" sx={{ width: "100%", maxWidth: 1200, mx: "auto" }}>
      <Stack
        direction="row"
        sx={{ mb: 2, alignItems: "center", justifyContent: "space-between", flexWrap: "wrap", gap: 1 }}
      >
        <Typography id="dashboard-title" variant="h5" component="h1">
          Dashboard
        </Typography>
        {(hasMailbox || dashboard.isPending) && (
          <ToggleButtonGroup
            size="small"
            exclusive
            value={days}
            onChange={(_, value: DashboardPeriod | null) => value !== null && setDays(value)}
            aria-label="Period"
          >
            {DASHBOARD_PERIODS.map((period) => (
              <ToggleButton key={period} value={period} aria-label={`Last ${period} days`} sx={{ px: 1.5 }}>
                {period} days
              </ToggleButton>
            ))}
          </ToggleButtonGroup>
        )}
      </Stack>

      {dashboard.isPending && <DashboardSkeleton />}

      {dashboard.isError && data === undefined && (
        <Alert
          severity="error"
          action={
            <Button color="inherit" size="small" onClick={() => void dashboard.refetch()}>
              Try again
            </Button>
          }
        >
          {`Couldn't load the dashboard. ${errorMessage(dashboard.error)}`}
        </Alert>
      )}

      {data !== undefined && !hasMailbox && <NoMailbox />}

      {data !== undefined && hasMailbox && (
        <Box
          sx={{ ...GRID, opacity: dashboard.isPlaceholderData ? 0.6 : 1 }}
          aria-busy={dashboard.isPlaceholderData || undefined}
        >
          <Box sx={WIDE}>
            <ActivityCard data={data} />
          </Box>
          <AssistantCards />
          <WaitingCard data={data} />
          <UnreadCard data={data} />
          <TopSendersCard data={data} />
          <MailboxesCard data={data} />
        </Box>
      )}
    </Box>
  );
}

function DashboardSkeleton() {
  return (
    <Box sx={GRID} aria-busy="true" aria-label="Loading the dashboard">
      <Skeleton variant="rounded" height={360} sx={WIDE} />
      {[0, 1, 2, 3].map((n) => (
        <Skeleton key={n} variant="rounded" height={260} />
      ))}
    </Box>
  );
}

function NoMailbox() {
  return (
    <Box
      sx={{
        display: "flex",
        flexDirection: "column",
        alignItems: "center",
        gap: 1.5,
        py: 10,
        textAlign: "center",
      }}
    >
      <MarkunreadMailboxOutlined sx={{ fontSize: 48, color: "text.secondary" }} aria-hidden />
      <Typography variant="h6" component="h2">
        No mailbox yet
      </Typography>
      <Typography color="text.secondary" sx={{ maxWidth: 420 }}>
        Add a mailbox and this page shows the mail you get and send, who writes most, what is unread
        and who owes you a reply.
      </Typography>
      <Button variant="contained" component={NextLink} href="/settings/mailboxes/">
        Add a mailbox
      </Button>
    </Box>
  );
}
