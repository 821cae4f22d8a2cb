"use client";

import ArrowBack from "@mui/icons-material/ArrowBack";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import FormControl from "@mui/material/FormControl";
import FormControlLabel from "@mui/material/FormControlLabel";
import FormLabel from "@mui/material/FormLabel";
import Radio from "@mui/material/Radio";
import RadioGroup from "@mui/material/RadioGroup";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import type { ReactNode } from "react";

import { SectionCard } from "@/components/Security/SectionCard";

import {
  useMailPreferences,
  useThemeMode,
  type Density,
  type ReadingPane,
  type ThemeMode,
} from "./preferences";

interface Choice<T extends string> {
  value: T;
  label: string;
  hint: string;
}

function Choices<T extends string>({
  id,
  legend,
  value,
  choices,
  onChange,
}: {
  id: string;
  legend: string;
  value: T;
  choices: Choice<T>[];
  onChange: (value: T) => void;
}): ReactNode {
  return (
    <FormControl component="fieldset">
      <FormLabel component="legend" id={id} sx={{ position: "absolute", width: 1, height: 1, overflow: "hidden", clip: "rect(0 0 0 0)" }}>
        {legend}
      </FormLabel>
      <RadioGroup aria-labelledby={id} value={value} onChange={(event) => onChange(event.target.value as T)}>
        {choices.map((choice) => (
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
  );
}

const DENSITIES: Choice<Density>[] = [
  { value: "comfortable", label: "Comfortable", hint: "Roomier rows, easier to read and to tap." },
  { value: "compact", label: "Compact", hint: "More conversations on the screen at once." },
];
const PANES: Choice<ReadingPane>[] = [
  { value: "beside", label: "Beside the list", hint: "On wide screens the conversation opens to the right of the list." },
  { value: "full", label: "Full width", hint: "The conversation takes the place of the list; u goes back." },
];
const SPLITS: Choice<"one" | "split">[] = [
  { value: "one", label: "One list", hint: "All of the inbox together, newest first." },
  {
    value: "split",
    label: "Important and Everything else",
    hint: "The assistant's Important section apart from the rest; switch between them above the list.",
  },
];
const THEMES: Choice<ThemeMode>[] = [
  { value: "system", label: "Same as the system", hint: "Light or dark, following this device's setting." },
  { value: "light", label: "Light", hint: "Always light." },
  { value: "dark", label: "Dark", hint: "Always dark." },
];

/** Settings → Appearance: how the mail looks in this browser. */
export function AppearanceSettings() {
  const [preferences, setPreferences] = useMailPreferences();
  const { mode, setMode } = useThemeMode();
  return (
    <Box component="section" aria-labelledby="appearance-title" sx={{ maxWidth: 720 }}>
      <Button component={NextLink} href="/settings/" startIcon={<ArrowBack />} size="small" sx={{ mb: 1 }}>
        Settings
      </Button>
      <Typography id="appearance-title" variant="h5" component="h1" sx={{ mb: 0.5 }}>
        Appearance
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        These choices are kept in this browser.
      </Typography>
      <Stack spacing={3}>
        <SectionCard id="appearance-theme" title="Theme">
          <Choices id="appearance-theme-legend" legend="Theme" value={mode} choices={THEMES} onChange={setMode} />
        </SectionCard>
        <SectionCard id="appearance-density" title="List density">
          <Choices
            id="appearance-density-legend"
            legend="List density"
            value={preferences.density}
            choices={DENSITIES}
            onChange={(density) => setPreferences({ density })}
          />
        </SectionCard>
        <SectionCard id="appearance-inbox" title="Inbox">
          <Choices
            id="appearance-inbox-legend"
            legend="Inbox"
            value={preferences.splitInbox ? "split" : "one"}
            choices={SPLITS}
            onChange={(value) => setPreferences({ splitInbox: value === "split" })}
          />
        </SectionCard>
        <SectionCard id="appearance-pane" title="Reading pane">
          <Choices
            id="appearance-pane-legend"
            legend="Reading pane"
            value={preferences.readingPane}
            choices={PANES}
            onChange={(readingPane) => setPreferences({ readingPane })}
          />
        </SectionCard>
      </Stack>
    </Box>
  );
}
