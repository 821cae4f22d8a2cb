"use client";

import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import { BarChart } from "@mui/x-charts/BarChart";

import type { Dashboard } from "@/api/dashboard";

import { CHART_COLORS } from "./chartColors";
import { DashCard } from "./DashCard";
import { busiest, formatCount, formatDay, formatLongDay, plural } from "./format";

/** Mail received and sent per day over the window, with the totals written out. */
export function ActivityCard({ data }: { data: Dashboard }) {
  const { days, received, sent } = data.activity;
  const peak = busiest(days, (day) => day.received + day.sent);
  const summary =
    `Mail per day over the last ${data.days} days: ${plural(received, "message", "messages")} received ` +
    `and ${formatCount(sent)} sent` +
    (peak ? `; the busiest day was ${formatLongDay(peak.day)}, with ${formatCount(peak.received + peak.sent)}.` : ".");

  return (
    <DashCard
      id="activity"
      title="Mail per day"
      figure={`${formatCount(received)} received · ${formatCount(sent)} sent`}
      caption={
        peak
          ? `in ${data.days} days · busiest: ${formatDay(peak.day)} (${formatCount(peak.received + peak.sent)})`
          : `in ${data.days} days`
      }
    >
      {received + sent === 0 ? (
        <Typography color="text.secondary" sx={{ py: 6, textAlign: "center" }}>
          No mail in the last {data.days} days.
        </Typography>
      ) : (
        <Box role="img" aria-label={summary} sx={{ mt: 1, minWidth: 0 }}>
          <BarChart
            height={260}
            skipAnimation
            margin={{ left: 0, right: 8, top: 8, bottom: 0 }}
            xAxis={[
              {
                scaleType: "band",
                data: days.map((day) => day.day),
                valueFormatter: (value: string, context) =>
                  context.location === "tick" ? formatDay(value) : formatLongDay(value),
                tickLabelMinGap: 12,
                categoryGapRatio: 0.25,
                barGapRatio: 0.1,
              },
            ]}
            yAxis={[{ label: "Messages", tickMinStep: 1, width: 56 }]}
            series={[
              {
                id: "received",
                label: "Received",
                data: days.map((day) => day.received),
                color: CHART_COLORS.primary,
              },
              { id: "sent", label: "Sent", data: days.map((day) => day.sent), color: CHART_COLORS.secondary },
            ]}
            grid={{ horizontal: true }}
            slotProps={{ legend: { direction: "horizontal", position: { vertical: "top", horizontal: "end" } } }}
          />
        </Box>
      )}
    </DashCard>
  );
}
