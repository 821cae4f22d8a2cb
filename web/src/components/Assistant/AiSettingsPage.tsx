"use client";

import ArrowBack from "@mui/icons-material/ArrowBack";
import ComputerOutlined from "@mui/icons-material/ComputerOutlined";
import PublicOutlined from "@mui/icons-material/PublicOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import LinearProgress from "@mui/material/LinearProgress";
import Skeleton from "@mui/material/Skeleton";
import Slider from "@mui/material/Slider";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useId, useState } from "react";

import { useAiSettings, useUpdateAiSettings, type AiSettings } from "@/api/ai";
import { errorMessage } from "@/api/problem";
import { formatCount } from "@/components/Dashboard/format";
import { SectionCard } from "@/components/Security/SectionCard";

import { AiProviderCard } from "./AiProviderCard";
import { AiUsageCard } from "./AiUsageCard";
import { privacyLine } from "./settingsForm";

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** How much of the inbox goes to Important, and how far the assistant has got through the mail. */
function ImportantCard({ settings }: { settings: AiSettings }) {
  const update = useUpdateAiSettings();
  const [dragging, setDragging] = useState<number | null>(null);
  const inputId = useId();
  const helpId = useId();
  const shown = dragging ?? (update.isPending ? (update.variables.important_share ?? settings.important_share) : settings.important_share);
  const { total, done } = settings.triage;
  const finished = total === 0 || done >= total;
  return (
    <SectionCard id="ai-important" title="Important mail" description="The assistant learns from what you open, answer, archive and mark.">
      <Stack spacing={3}>
        <Box sx={{ maxWidth: 420 }}>
          <Typography component="label" htmlFor={inputId} sx={{ display: "block", mb: 0.5 }}>
            Share of the inbox in Important: {percent(shown)}
          </Typography>
          <Slider
            value={Math.round(shown * 100)}
            min={2}
            max={80}
            step={1}
            valueLabelDisplay="auto"
            valueLabelFormat={(value) => `${value} %`}
            getAriaValueText={(value) => `${value} percent`}
            onChange={(_, value) => setDragging((value as number) / 100)}
            onChangeCommitted={(_, value) => {
              setDragging(null);
              update.mutate({ important_share: (value as number) / 100 });
            }}
            slotProps={{ input: { id: inputId, "aria-describedby": helpId } }}
          />
          <Typography id={helpId} variant="body2" color="text.secondary">
            Fewer means only the mail that matters most; more means fewer misses.
          </Typography>
        </Box>
        {update.isError && <Alert severity="error">{`Couldn't save. ${errorMessage(update.error)}`}</Alert>}
        <Box>
          <Typography gutterBottom>
            {finished
              ? `All ${formatCount(total)} messages are sorted.`
              : `Sorting the mail already here: ${formatCount(done)} of ${formatCount(total)} messages.`}
          </Typography>
          <LinearProgress
            variant="determinate"
            value={total === 0 ? 100 : Math.min(100, (done / total) * 100)}
            aria-label="Messages sorted by the assistant"
            sx={{ maxWidth: 420, height: 6, borderRadius: 3 }}
          />
        </Box>
      </Stack>
    </SectionCard>
  );
}

/** Which provider sees the mail, said before anything else on the page. */
function PrivacyNote({ settings }: { settings: AiSettings }) {
  return (
    <Alert
      severity={settings.remote ? "info" : "success"}
      icon={settings.remote ? <PublicOutlined /> : <ComputerOutlined />}
      role="note"
      data-testid="ai-privacy"
    >
      {privacyLine(settings)}
    </Alert>
  );
}

/** Settings → AI: the provider and its key, the budget, privacy, the Important section, usage. */
export function AiSettingsPage() {
  const settings = useAiSettings();
  return (
    <Box component="section" aria-labelledby="ai-settings-title" sx={{ maxWidth: 720 }}>
      <Button component={NextLink} href="/settings/" startIcon={<ArrowBack />} size="small" sx={{ mb: 1 }}>
        Settings
      </Button>
      <Typography id="ai-settings-title" variant="h5" component="h1" sx={{ mb: 2 }}>
        AI assistant
      </Typography>
      {settings.isPending && (
        <Stack spacing={2} aria-busy="true" aria-label="Loading the assistant's settings">
          <Skeleton variant="rounded" height={48} />
          <Skeleton variant="rounded" height={320} />
        </Stack>
      )}
      {settings.isError && (
        <Alert
          severity="error"
          action={
            <Button color="inherit" size="small" onClick={() => void settings.refetch()}>
              Try again
            </Button>
          }
        >
          {`Couldn't load the assistant's settings. ${errorMessage(settings.error)}`}
        </Alert>
      )}
      {settings.isSuccess && (
        <Stack spacing={3}>
          <PrivacyNote settings={settings.data} />
          <AiProviderCard settings={settings.data} />
          <ImportantCard settings={settings.data} />
          <AiUsageCard />
        </Stack>
      )}
    </Box>
  );
}
