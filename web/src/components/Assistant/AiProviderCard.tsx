"use client";

import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import FormControl from "@mui/material/FormControl";
import FormControlLabel from "@mui/material/FormControlLabel";
import FormLabel from "@mui/material/FormLabel";
import InputAdornment from "@mui/material/InputAdornment";
import Radio from "@mui/material/Radio";
import RadioGroup from "@mui/material/RadioGroup";
import Stack from "@mui/material/Stack";
import Switch from "@mui/material/Switch";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { useId, useState, type FormEvent } from "react";

import { useTestAiSettings, useUpdateAiSettings, type AiSettings } from "@/api/ai";
import { errorMessage } from "@/api/problem";
import { SectionCard } from "@/components/Security/SectionCard";

import { changesOf, formOf, parseBudget, SETTINGS_ERRORS, testWords, type AiForm, type ProviderChoice } from "./settingsForm";

const PROVIDERS: readonly { value: ProviderChoice; label: string; hint: string }[] = [
  {
    value: "local",
    label: "On this machine",
    hint: "Postwise's own models sort, summarise and draft. No key, no network, no cost.",
  },
  {
    value: "openai",
    label: "An OpenAI-compatible service",
    hint: "OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio… Better summaries and drafts; your mail is sent to it.",
  },
];

/** Settings → AI: who does the work, with which model and key, at what daily cost, and a test. */
export function AiProviderCard({ settings }: { settings: AiSettings }) {
  const update = useUpdateAiSettings();
  const test = useTestAiSettings();
  const [form, setForm] = useState<AiForm>(() => formOf(settings));
  const providerId = useId();
  // Settings changed (a save, another tab): the form starts over from them. A refetch that
  // brings the same values leaves what is being typed alone.
  const settingsKey = JSON.stringify([formOf(settings), settings.has_own_key]);
  const [seen, setSeen] = useState(settingsKey);
  if (seen !== settingsKey) {
    setSeen(settingsKey);
    setForm(formOf(settings));
  }
  const change = (patch: Partial<AiForm>) => setForm((current) => ({ ...current, ...patch }));
  const body = changesOf(form, settings);
  const dirty = Object.keys(body).length > 0;
  const budgetValid = parseBudget(form.budget) !== null;
  const remote = form.provider === "openai";

  const save = (event: FormEvent) => {
    event.preventDefault();
    if (!dirty || !budgetValid) return;
    test.reset();
    // The key typed is stored now: the field empties, as it never shows a stored key.
    update.mutate(body, { onSuccess: (next) => setForm(formOf(next)) });
  };
  const removeKey = () => {
    test.reset();
    update.mutate({ api_key: "" });
  };

  return (
    <SectionCard
      id="ai-provider"
      title="Who reads your mail"
      description="The assistant sorts new mail, summarises conversations and drafts replies."
    >
      <Box component="form" onSubmit={save} noValidate>
        <Stack spacing={2.5}>
          <FormControl>
            <FormLabel id={providerId}>Provider</FormLabel>
            <RadioGroup
              aria-labelledby={providerId}
              name="provider"
              value={form.provider}
              onChange={(event) => change({ provider: event.target.value as ProviderChoice })}
            >
              {PROVIDERS.map((choice) => (
                <FormControlLabel
                  key={choice.value}
                  value={choice.value}
                  control={<Radio />}
                  sx={{ alignItems: "flex-start", mb: 1, "& .MuiRadio-root": { pt: 0.5 } }}
                  label={
                    <Box sx={{ pt: 0.75 }}>
                      <Typography>{choice.label}</Typography>
                      <Typography variant="body2" color="text.secondary">
                        {choice.hint}
                      </Typography>
                    </Box>
                  }
                />
              ))}
            </RadioGroup>
          </FormControl>
          {remote && (
            <>
              <TextField
                label="Model"
                name="model"
                value={form.model}
                onChange={(event) => change({ model: event.target.value })}
                placeholder="This Postwise's default model"
                helperText="The model's name on the service, e.g. gpt-4o-mini or llama3.1."
                slotProps={{ htmlInput: { maxLength: 128, autoComplete: "off", spellCheck: false } }}
                sx={{ maxWidth: 420 }}
              />
              <Stack spacing={1} sx={{ alignItems: "flex-start" }}>
                <TextField
                  label={settings.has_own_key ? "Replace your API key" : "Your own API key (optional)"}
                  name="api_key"
                  type="password"
                  value={form.apiKey}
                  onChange={(event) => change({ apiKey: event.target.value })}
                  helperText="Stored sealed, never shown again. Without one, this Postwise's own key is used, if it has one."
                  slotProps={{ htmlInput: { maxLength: 512, autoComplete: "off", spellCheck: false } }}
                  sx={{ width: "100%", maxWidth: 420 }}
                />
                {settings.has_own_key && (
                  <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}>
                    <Typography variant="body2" color="text.secondary">
                      A key of yours is saved.
                    </Typography>
                    <Button size="small" color="error" onClick={removeKey} disabled={update.isPending}>
                      Remove my key
                    </Button>
                  </Box>
                )}
              </Stack>
              <TextField
                label="Daily budget"
                name="daily_budget_usd"
                value={form.budget}
                onChange={(event) => change({ budget: event.target.value })}
                error={!budgetValid}
                helperText={
                  budgetValid
                    ? "Past it, the assistant on this machine answers until midnight (UTC)."
                    : "Write an amount in dollars from 0 to 10,000."
                }
                slotProps={{
                  htmlInput: { inputMode: "decimal" },
                  input: { startAdornment: <InputAdornment position="start">$</InputAdornment> },
                }}
                sx={{ maxWidth: 420 }}
              />
              <FormControlLabel
                control={<Switch checked={form.redact} onChange={(event) => change({ redact: event.target.checked })} />}
                label={
                  <Box>
                    <Typography>Hide personal details</Typography>
                    <Typography variant="body2" color="text.secondary">
                      Replace email addresses, phone and card numbers before mail leaves this machine.
                    </Typography>
                  </Box>
                }
                sx={{ alignItems: "flex-start", "& .MuiSwitch-root": { mt: -0.5 } }}
              />
            </>
          )}
          {update.isError && (
            <Alert severity="error" role="alert">
              {`Couldn't save. ${errorMessage(update.error, SETTINGS_ERRORS)}`}
            </Alert>
          )}
          {test.isSuccess && (
            <Alert severity={test.data.ok ? "success" : "warning"} role="status">
              {testWords(test.data)}
            </Alert>
          )}
          {test.isError && <Alert severity="error">{`Couldn't run the test. ${errorMessage(test.error)}`}</Alert>}
          <Stack direction="row" spacing={1} sx={{ alignItems: "center", flexWrap: "wrap", rowGap: 1 }}>
            <Button type="submit" variant="contained" disabled={!dirty || !budgetValid || update.isPending}>
              Save
            </Button>
            {dirty && (
              <Button onClick={() => setForm(formOf(settings))} disabled={update.isPending}>
                Cancel
              </Button>
            )}
            <Button variant="outlined" onClick={() => test.mutate()} disabled={dirty || test.isPending}>
              {test.isPending ? "Testing…" : "Test"}
            </Button>
            {dirty && (
              <Typography variant="body2" color="text.secondary">
                Save first to test these settings.
              </Typography>
            )}
          </Stack>
        </Stack>
      </Box>
    </SectionCard>
  );
}
