"use client";

import Alert from "@mui/material/Alert";
import Skeleton from "@mui/material/Skeleton";
import Table from "@mui/material/Table";
import TableBody from "@mui/material/TableBody";
import TableCell from "@mui/material/TableCell";
import TableContainer from "@mui/material/TableContainer";
import TableFooter from "@mui/material/TableFooter";
import TableHead from "@mui/material/TableHead";
import TableRow from "@mui/material/TableRow";
import Typography from "@mui/material/Typography";

import { USAGE_DAYS, useAiUsage, type AiUsageDay } from "@/api/ai";
import { errorMessage } from "@/api/problem";
import { formatCount, formatDay } from "@/components/Dashboard/format";
import { SectionCard } from "@/components/Security/SectionCard";

import { formatCost } from "./providerWords";

const NUMBER = { fontVariantNumeric: "tabular-nums" } as const;

function who(row: AiUsageDay): string {
  return row.provider === "local" ? "This machine" : row.model;
}

/** Settings → AI: calls, tokens and cost per day over the last 30 days, with the totals. */
export function AiUsageCard() {
  const usage = useAiUsage(USAGE_DAYS);
  const rows = usage.data?.items ?? [];
  const total = rows.reduce(
    (sum, row) => ({
      calls: sum.calls + row.calls,
      hits: sum.hits + row.cache_hits,
      tokens: sum.tokens + row.prompt_tokens + row.completion_tokens,
      cost: sum.cost + row.cost_usd,
    }),
    { calls: 0, hits: 0, tokens: 0, cost: 0 },
  );
  return (
    <SectionCard
      id="ai-usage"
      title="Usage"
      description={
        usage.data
          ? `Today: ${formatCost(usage.data.today_cost_usd)} of your ${formatCost(usage.data.daily_budget_usd)} daily budget.`
          : `The last ${USAGE_DAYS} days.`
      }
    >
      {usage.isPending && <Skeleton variant="rounded" height={120} />}
      {usage.isError && <Alert severity="error">{`Couldn't load the usage. ${errorMessage(usage.error)}`}</Alert>}
      {usage.isSuccess && rows.length === 0 && (
        <Typography color="text.secondary">No requests in the last {USAGE_DAYS} days.</Typography>
      )}
      {rows.length > 0 && (
        <TableContainer sx={{ maxHeight: 420 }}>
          <Table size="small" stickyHeader aria-label={`Assistant usage over the last ${USAGE_DAYS} days`}>
            <TableHead>
              <TableRow>
                <TableCell scope="col">Day</TableCell>
                <TableCell scope="col">Model</TableCell>
                <TableCell scope="col" align="right">
                  Calls
                </TableCell>
                <TableCell scope="col" align="right">
                  From cache
                </TableCell>
                <TableCell scope="col" align="right">
                  Tokens
                </TableCell>
                <TableCell scope="col" align="right">
                  Cost
                </TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {rows.map((row) => (
                <TableRow key={`${row.day}-${row.provider}-${row.model}`}>
                  <TableCell component="th" scope="row" sx={{ whiteSpace: "nowrap" }}>
                    {formatDay(row.day)}
                  </TableCell>
                  <TableCell sx={{ overflowWrap: "anywhere" }}>{who(row)}</TableCell>
                  <TableCell align="right" sx={NUMBER}>
                    {formatCount(row.calls)}
                  </TableCell>
                  <TableCell align="right" sx={NUMBER}>
                    {formatCount(row.cache_hits)}
                  </TableCell>
                  <TableCell align="right" sx={NUMBER}>
                    {formatCount(row.prompt_tokens + row.completion_tokens)}
                  </TableCell>
                  <TableCell align="right" sx={NUMBER}>
                    {formatCost(row.cost_usd)}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
            <TableFooter>
              <TableRow>
                <TableCell component="th" scope="row" colSpan={2} sx={{ fontWeight: 600, color: "text.primary" }}>
                  {USAGE_DAYS} days
                </TableCell>
                <TableCell align="right" sx={{ ...NUMBER, fontWeight: 600, color: "text.primary" }}>
                  {formatCount(total.calls)}
                </TableCell>
                <TableCell align="right" sx={{ ...NUMBER, fontWeight: 600, color: "text.primary" }}>
                  {formatCount(total.hits)}
                </TableCell>
                <TableCell align="right" sx={{ ...NUMBER, fontWeight: 600, color: "text.primary" }}>
                  {formatCount(total.tokens)}
                </TableCell>
                <TableCell align="right" sx={{ ...NUMBER, fontWeight: 600, color: "text.primary" }}>
                  {formatCost(total.cost)}
                </TableCell>
              </TableRow>
            </TableFooter>
          </Table>
        </TableContainer>
      )}
    </SectionCard>
  );
}
