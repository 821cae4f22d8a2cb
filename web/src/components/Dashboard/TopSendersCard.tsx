"use client";

import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import { BarChart } from "@mui/x-charts/BarChart";

import type { Dashboard, TopSender } from "@/api/dashboard";

import { CHART_COLORS } from "./chartColors";
import { DashCard } from "./DashCard";
import { formatCount, plural } from "./format";

const LABEL_CHARS = 18;
const ROW_HEIGHT = 30;

function who(sender: TopSender): string {
  return sender.name || sender.address;
}

/** The bar labels: names, or the address where two senders share a name. */
function labels(senders: readonly TopSender[]): Map<string, string> {
  const names = new Map<string, number>();
  for (const sender of senders) names.set(who(sender), (names.get(who(sender)) ?? 0) + 1);
  return new Map(
    senders.map((sender) => [sender.address, (names.get(who(sender)) ?? 0) > 1 ? sender.address : who(sender)]),
  );
}

function short(label: string): string {
  return label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
}

/** Who wrote most over the window, as horizontal bars (own addresses are left out by the server). */
export function TopSendersCard({ data }: { data: Dashboard }) {
  const senders = data.top_senders;
  const first = senders[0];
  const label = labels(senders);
  const summary = senders
    .map((sender) => `${label.get(sender.address) ?? who(sender)}: ${formatCount(sender.count)}`)
    .join("; ");

  return (
    <DashCard
      id="senders"
      title="Top senders"
      figure={first ? who(first) : undefined}
      caption={first ? `wrote the most: ${plural(first.count, "message", "messages")} in ${data.days} days` : undefined}
    >
      {first === undefined ? (
        <Typography color="text.secondary" sx={{ py: 4 }}>
          Nobody wrote to you in the last {data.days} days.
        </Typography>
      ) : (
        <Box
          role="img"
          aria-label={`Messages per sender over the last ${data.days} days: ${summary}.`}
          sx={{ mt: 1, minWidth: 0 }}
        >
          <BarChart
            layout="horizontal"
            height={senders.length * ROW_HEIGHT + 56}
            skipAnimation
            hideLegend
            margin={{ left: 0, right: 12, top: 0, bottom: 0 }}
            yAxis={[
              {
                scaleType: "band",
                data: senders.map((sender) => sender.address),
                valueFormatter: (address: string, context) => {
                  if (context.location === "tick") return short(label.get(address) ?? address);
                  const name = senders.find((sender) => sender.address === address)?.name;
                  return name ? `${name} <${address}>` : address;
                },
                width: 128,
                categoryGapRatio: 0.3,
              },
            ]}
            xAxis={[{ label: "Messages", tickMinStep: 1 }]}
            series={[
              {
                id: "messages",
                label: "Messages",
                data: senders.map((sender) => sender.count),
                color: CHART_COLORS.primary,
              },
            ]}
            grid={{ vertical: true }}
          />
        </Box>
      )}
    </DashCard>
  );
}
