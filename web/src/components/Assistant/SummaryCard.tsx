"use client";

import AutoAwesomeOutlined from "@mui/icons-material/AutoAwesomeOutlined";
import ExpandLess from "@mui/icons-material/ExpandLess";
import ExpandMore from "@mui/icons-material/ExpandMore";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Paper from "@mui/material/Paper";
import Skeleton from "@mui/material/Skeleton";
import Typography from "@mui/material/Typography";
import { useId, useState, type ReactNode } from "react";

import { useAiSettings, useThreadSummary, type ThreadSummaryOut } from "@/api/ai";
import { ApiError } from "@/api/client";
import { visuallyHidden } from "@/components/Mail/listStyles";

import { formatDue, summarisedBy } from "./providerWords";

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function Section({ title, items }: { title: string; items: readonly string[] }) {
  if (items.length === 0) return null;
  return (
    <Box sx={{ mt: 1.5 }}>
      <Typography component="h4" variant="subtitle2">
        {title}
      </Typography>
      <Box component="ul" sx={{ m: 0, mt: 0.5, pl: 2.5, typography: "body2" }}>
        {items.map((item, index) => (
          <li key={index}>{item}</li>
        ))}
      </Box>
    </Box>
  );
}

function Details({ summary }: { summary: ThreadSummaryOut }) {
  const actions = (summary.action_items ?? []).map((item) => (item.due ? `${item.text} (by ${formatDue(item.due)})` : item.text));
  return (
    <>
      <Section title="Key points" items={summary.key_points ?? []} />
      <Section title="Questions asked" items={summary.questions ?? []} />
      <Section title="Action items" items={actions} />
    </>
  );
}

function Frame({ children, busy }: { children: ReactNode; busy?: boolean }) {
  const titleId = useId();
  return (
    <Paper
      variant="outlined"
      component="section"
      aria-labelledby={titleId}
      aria-busy={busy || undefined}
      sx={{ px: 2, py: 1.5, mb: 2, bgcolor: "background.default" }}
    >
      <Box sx={{ display: "flex", alignItems: "center", gap: 1 }}>
        <AutoAwesomeOutlined fontSize="small" color="primary" aria-hidden />
        <Typography id={titleId} component="h3" variant="subtitle2">
          Summary
        </Typography>
      </Box>
      {children}
    </Paper>
  );
}

/**
 * Above a thread's messages: what it is about, its key points, the questions asked and the
 * action items, and who wrote that summary (this machine, or which remote model).
 */
export function SummaryCard({ threadId }: { threadId: string }) {
  const summary = useThreadSummary(threadId);
  const settings = useAiSettings();
  const [open, setOpen] = useState(false);
  const detailsId = useId();

  if (summary.isPending) {
    return (
      <Frame busy>
        <span role="status" style={visuallyHidden}>
          Summarising this conversation
        </span>
        <Skeleton variant="text" sx={{ fontSize: 14, mt: 0.5 }} />
        <Skeleton variant="text" sx={{ fontSize: 14 }} width="70%" />
      </Frame>
    );
  }
  if (summary.isError) {
    // A conversation that went away says so elsewhere; the summary is a courtesy.
    if (summary.error instanceof ApiError && summary.error.status === 404) return null;
    return (
      <Frame>
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, mt: 0.5 }}>
          <Typography variant="body2" color="text.secondary" sx={{ flex: 1 }}>
            Couldn’t summarise this conversation.
          </Typography>
          <Button size="small" onClick={() => void summary.refetch()}>
            Try again
          </Button>
        </Box>
      </Frame>
    );
  }
  const data = summary.data;
  const points = data.key_points?.length ?? 0;
  const questions = data.questions?.length ?? 0;
  const actions = data.action_items?.length ?? 0;
  const extras = points + questions + actions;
  if (!data.summary.trim() && extras === 0) return null;
  const counts = [
    points > 0 ? plural(points, "key point", "key points") : null,
    questions > 0 ? plural(questions, "question", "questions") : null,
    actions > 0 ? plural(actions, "action item", "action items") : null,
  ].filter(Boolean);

  return (
    <Frame>
      {data.summary.trim() && (
        <Typography variant="body2" sx={{ mt: 0.5, overflowWrap: "anywhere" }}>
          {data.summary}
        </Typography>
      )}
      {open && (
        <Box id={detailsId}>
          <Details summary={data} />
        </Box>
      )}
      <Box sx={{ display: "flex", alignItems: "center", flexWrap: "wrap", gap: 1, mt: 1 }}>
        {extras > 0 && (
          <Button
            size="small"
            aria-expanded={open}
            aria-controls={open ? detailsId : undefined}
            endIcon={open ? <ExpandLess /> : <ExpandMore />}
            onClick={() => setOpen((value) => !value)}
            sx={{ textTransform: "none", ml: -0.5 }}
          >
            {open ? "Hide details" : counts.join(" · ")}
          </Button>
        )}
        <Typography variant="caption" color="text.secondary" sx={{ ml: "auto" }}>
          {summarisedBy(data.provider, data.model, settings.data?.base_url)}
        </Typography>
      </Box>
    </Frame>
  );
}
