"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import FormControlLabel from "@mui/material/FormControlLabel";
import Radio from "@mui/material/Radio";
import RadioGroup from "@mui/material/RadioGroup";
import Skeleton from "@mui/material/Skeleton";
import Typography from "@mui/material/Typography";

import { useInstanceSettings, useUpdateRegistration, type RegistrationMode } from "@/api/admin";
import { errorMessage } from "@/api/problem";
import { SectionCard } from "@/components/Security/SectionCard";

const MODES: { value: RegistrationMode; label: string; help: string }[] = [
  { value: "open", label: "Open", help: "Anyone who can reach this server can create an account." },
  { value: "invite", label: "Invite only", help: "People need an invitation link from an admin." },
  { value: "closed", label: "Closed", help: "Nobody can create an account; invitations don't work either." },
];

function modeLabel(mode: RegistrationMode): string {
  return MODES.find((item) => item.value === mode)?.label ?? mode;
}

/** Who may create an account here, applied from the next sign-up on. */
export function RegistrationCard() {
  const settings = useInstanceSettings();
  const update = useUpdateRegistration();
  const current = update.isPending ? update.variables : settings.data?.registration;

  return (
    <SectionCard id="registration" title="Sign-up" description="Who can create an account on this server.">
      {settings.isPending && <Skeleton variant="rounded" height={120} />}
      {settings.isError && <Alert severity="error">{errorMessage(settings.error)}</Alert>}
      {update.isError && (
        <Alert severity="error" role="alert" sx={{ mb: 2 }}>
          {errorMessage(update.error)}
        </Alert>
      )}
      {settings.isSuccess && (
        <>
          <RadioGroup
            aria-labelledby="registration-title"
            value={current ?? settings.data.registration}
            onChange={(event) => update.mutate(event.target.value as RegistrationMode)}
          >
            {MODES.map((mode) => (
              <FormControlLabel
                key={mode.value}
                value={mode.value}
                disabled={update.isPending}
                control={<Radio />}
                sx={{ alignItems: "flex-start", mb: 1, "& .MuiRadio-root": { mt: -0.75 } }}
                label={
                  <>
                    <Typography component="span" sx={{ display: "block" }}>
                      {mode.label}
                    </Typography>
                    <Typography component="span" variant="body2" color="text.secondary" sx={{ display: "block" }}>
                      {mode.help}
                    </Typography>
                  </>
                }
              />
            ))}
          </RadioGroup>
          {settings.data.registration_source === "environment" ? (
            <Typography variant="body2" color="text.secondary">
              This is the server&apos;s configured default. A choice made here replaces it.
            </Typography>
          ) : (
            <Typography variant="body2" color="text.secondary">
              Chosen here. The server&apos;s configured default is{" "}
              {modeLabel(settings.data.registration_default)}.{" "}
              <Button
                size="small"
                onClick={() => update.mutate(null)}
                disabled={update.isPending}
                sx={{ verticalAlign: "baseline" }}
              >
                Use the default
              </Button>
            </Typography>
          )}
        </>
      )}
    </SectionCard>
  );
}
