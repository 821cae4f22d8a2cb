"use client";

import Alert from "@mui/material/Alert";
import FormControl from "@mui/material/FormControl";
import FormHelperText from "@mui/material/FormHelperText";
import InputLabel from "@mui/material/InputLabel";
import MenuItem from "@mui/material/MenuItem";
import Select from "@mui/material/Select";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import { useId } from "react";

import { errorMessage } from "@/api/problem";
import { useMe, useUpdateMe } from "@/api/users";
import { SectionCard } from "@/components/Security/SectionCard";

/** The undo windows offered, in seconds (the server takes 0–30). */
export const UNDO_CHOICES: readonly number[] = [0, 5, 10, 20, 30];

export function undoLabel(seconds: number): string {
  return seconds === 0 ? "Off: send at once" : `${seconds} seconds`;
}

/** Settings → Sending: how long a sent message can still be taken back. */
export function SendingSettings() {
  const me = useMe();
  const update = useUpdateMe();
  const labelId = useId();
  const helpId = useId();

  const stored = me.data?.send_undo_seconds;
  // Shown at once, saved behind it; a failure puts the saved value back.
  const value = update.isPending ? (update.variables.send_undo_seconds ?? stored) : stored;
  // A value set elsewhere (the API) that the list does not offer is still shown.
  const choices = value !== undefined && value !== null && !UNDO_CHOICES.includes(value) ? [...UNDO_CHOICES, value].sort((a, b) => a - b) : UNDO_CHOICES;

  return (
    <SectionCard id="sending" title="Sending" description="Change your mind just after pressing Send.">
      <Stack spacing={2}>
        {me.isPending && <Skeleton variant="rounded" height={56} width={260} />}
        {me.isError && <Alert severity="error">{`Couldn't load your settings. ${errorMessage(me.error)}`}</Alert>}
        {me.isSuccess && value !== undefined && value !== null && (
          <FormControl sx={{ width: { xs: "100%", sm: 320 }, alignSelf: "flex-start" }} disabled={update.isPending}>
            <InputLabel id={labelId}>Undo send</InputLabel>
            <Select
              labelId={labelId}
              label="Undo send"
              name="send_undo_seconds"
              value={value}
              aria-describedby={helpId}
              onChange={(event) => update.mutate({ send_undo_seconds: Number(event.target.value) })}
            >
              {choices.map((seconds) => (
                <MenuItem key={seconds} value={seconds}>
                  {undoLabel(seconds)}
                </MenuItem>
              ))}
            </Select>
            <FormHelperText id={helpId}>
              {value === 0
                ? "Messages leave as soon as you press Send."
                : `Sent messages wait ${value} seconds in the outbox, when Undo still takes them back.`}
            </FormHelperText>
          </FormControl>
        )}
        {update.isError && (
          <Alert severity="error" role="alert">
            {`Couldn't save the setting. ${errorMessage(update.error)}`}
          </Alert>
        )}
      </Stack>
    </SectionCard>
  );
}
