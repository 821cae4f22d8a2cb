"use client";

import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Link from "@mui/material/Link";
import Skeleton from "@mui/material/Skeleton";
import Typography from "@mui/material/Typography";
import { BarChart } from "@mui/x-charts/BarChart";
import NextLink from "next/link";

import { useAiOverview, type AiOverview } from "@/api/ai";
import { errorMessage } from "@/api/problem";
import { CHART_COLORS } from "@/components/Dashboard/chartColors";
import { DashCard } from "@/components/Dashboard/DashCard";
import { formatCount, plural } from "@/components/Dashboard/format";

import { categoryLabel, IMPORTANT_QUERY, NEEDS_REPLY_QUERY } from "./categories";
import { formatCost } from "./providerWords";

const ROW_HEIGHT = 30;

function searchHref(query: string): string {
  return `/?q=${encodeURIComponent(query)}`;
}

function Show({ query, label }: { query: string; label: string }) {
  return (
    <Link component={NextLink} href={searchHref(query)} variant="body2" aria-label={label}>
      Show
    </Link>
  );
}

function CategoryCard({ data }: { data: AiOverview }) {
  const rows = [...data.by_category].filter((row) => row.count > 0).sort((a, b) => b.count - a.count);
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  const first = rows[0];
  const summary = rows.map((row) => `${categoryLabel(row.category)}: ${formatCount(row.count)}`).join("; ");
  return (
    <DashCard
      id="ai-categories"
      title="Mail by category"
      figure={first ? categoryLabel(first.category) : undefined}
      caption={
        first
          ? `the most common: ${plural(first.count, "message", "messages")} of ${formatCount(total)} in 30 days`
          : undefined
      }
    >
      {first === undefined ? (
        <Typography color="text.secondary" sx={{ py: 4 }}>
          Nothing sorted in the last 30 days yet.
        </Typography>
      ) : (
        <Box role="img" aria-label={`Inbox mail per category over the last 30 days: ${summary}.`} sx={{ mt: 1, minWidth: 0 }}>
          <BarChart
            layout="horizontal"
            height={rows.length * ROW_HEIGHT + 56}
            skipAnimation
            hideLegend
            margin={{ left: 0, right: 12, top: 0, bottom: 0 }}
            yAxis={[
              {
                scaleType: "band",
                data: rows.map((row) => row.category),
                valueFormatter: (category: string) => categoryLabel(category),
                width: 112,
                categoryGapRatio: 0.3,
              },
            ]}
            xAxis={[{ label: "Messages", tickMinStep: 1 }]}
            series={[{ id: "count", label: "Messages", data: rows.map((row) => row.count), color: CHART_COLORS.primary }]}
            grid={{ vertical: true }}
          />
        </Box>
      )}
    </DashCard>
  );
}

/**
 * The dashboard's assistant cards, from `GET /api/ai/overview`: what waits for a reply, what is
 * important and unread, the inbox by category, and what the assistant did (and cost) today.
 */
export function AssistantCards() {
  const overview = useAiOverview();
  if (overview.isPending) {
    return (
      <>
        {[0, 1, 2, 3].map((n) => (
          <Skeleton key={n} variant="rounded" height={180} aria-hidden />
        ))}
      </>
    );
  }
  if (overview.isError) {
    return (
      <Box sx={{ gridColumn: { md: "1 / -1" } }}>
        <Alert
          severity="error"
          action={
            <Button color="inherit" size="small" onClick={() => void overview.refetch()}>
              Try again
            </Button>
          }
        >
          {`Couldn't load the assistant's figures. ${errorMessage(overview.error)}`}
        </Alert>
      </Box>
    );
  }
  const data = overview.data;
  // On this machine nothing is paid: the number of requests says more than $0.00.
  const free = data.provider === "local" && data.today_cost_usd === 0;
  return (
    <>
      <DashCard
        id="ai-needs-reply"
        title="Needs a reply"
        figure={formatCount(data.needs_reply)}
        caption={
          data.needs_reply > 0
            ? `${data.needs_reply === 1 ? "conversation" : "conversations"} in your inbox waiting for your answer`
            : "Nothing in your inbox waits for an answer from you."
        }
        action={data.needs_reply > 0 ? <Show query={NEEDS_REPLY_QUERY} label="Show the conversations that need a reply" /> : undefined}
      />
      <DashCard
        id="ai-important"
        title="Important, unread"
        figure={formatCount(data.important_unread)}
        caption={data.important_unread > 0 ? "important messages you haven’t read yet" : "You’ve read everything important."}
        action={
          data.important_unread > 0 ? (
            <Show query={`${IMPORTANT_QUERY} is:unread`} label="Show the important unread conversations" />
          ) : undefined
        }
      />
      <CategoryCard data={data} />
      <DashCard
        id="ai-usage"
        title="Assistant today"
        figure={free ? plural(data.today_calls, "request", "requests") : formatCost(data.today_cost_usd)}
        caption={
          free ? "answered on this machine, at no cost" : `spent on ${plural(data.today_calls, "request", "requests")} today`
        }
        action={
          <Link component={NextLink} href="/settings/ai/" variant="body2" aria-label="The assistant's settings and usage">
            Settings
          </Link>
        }
      />
    </>
  );
}
