"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import FormControl from "@mui/material/FormControl";
import FormControlLabel from "@mui/material/FormControlLabel";
import FormLabel from "@mui/material/FormLabel";
import Radio from "@mui/material/Radio";
import RadioGroup from "@mui/material/RadioGroup";
import Skeleton from "@mui/material/Skeleton";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { useId, useState, useSyncExternalStore } from "react";

import { errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { useMe, useUpdateMe } from "@/api/users";
import { SectionCard } from "@/components/Security/SectionCard";

import { desktopPermission, requestDesktopPermission, subscribePermission } from "./desktop";

type Choice = components["schemas"]["NewMailNotifications"];
type Permission = ReturnType<typeof desktopPermission>;

const CHOICES: readonly { value: Choice; label: string; hint: string }[] = [
  { value: "all", label: "All new mail", hint: "A notification for every new message in your inboxes." },
  {
    value: "important",
    label: "Important mail only",
    hint: "A notification when the assistant finds a new message important.",
  },
  { value: "none", label: "None", hint: "New mail only shows in the inbox." },
];

function PermissionState({ permission, wanted, onAsk, asking }: {
  permission: Permission;
  wanted: boolean;
  onAsk: () => void;
  asking: boolean;
}) {
  if (permission === "unsupported") {
    return <Alert severity="info" role="status">This browser can&apos;t show desktop notifications.</Alert>;
  }
  if (permission === "denied") {
    return (
      <Alert severity="warning" role="status">
        This browser blocks notifications from Postwise. To allow them, open the site settings
        (the icon beside the address bar), allow notifications, then reload this page.
      </Alert>
    );
  }
  if (permission === "granted") {
    return (
      <Alert severity="success" role="status">
        {wanted
          ? "This browser shows them while Postwise is open in a tab you aren't looking at."
          : "This browser may show notifications; choose which mail above to get them."}
      </Alert>
    );
  }
  return (
    <Stack spacing={1} sx={{ alignItems: "flex-start" }}>
      <Typography variant="body2" color="text.secondary">
        {wanted
          ? "One more step: this browser needs your permission before it can show them."
          : "Each browser asks once before it shows notifications."}
      </Typography>
      <Button variant={wanted ? "contained" : "outlined"} onClick={onAsk} disabled={asking}>
        Allow desktop notifications
      </Button>
    </Stack>
  );
}

/**
 * Desktop notifications for new mail: which mail rings (a setting of the account, so it
 * follows the user) and this browser's permission (per device).
 */
export function NotificationSettings() {
  const me = useMe();
  const update = useUpdateMe();
  const labelId = useId();
  // The page is prerendered, where there is no browser to ask: "unsupported" until hydrated.
  const permission = useSyncExternalStore(subscribePermission, desktopPermission, () => "unsupported" as const);
  const [asking, setAsking] = useState(false);

  const choice: Choice | undefined = update.isPending
    ? update.variables.new_mail_notifications ?? undefined
    : me.data?.new_mail_notifications;

  const ask = async () => {
    setAsking(true);
    try {
      await requestDesktopPermission();
    } catch {
      // Older browsers take a callback and return nothing; the state is re-read either way.
    } finally {
      setAsking(false);
    }
  };

  return (
    <SectionCard
      id="desktop-notifications"
      title="Desktop notifications"
      description="Get a notification from your browser when new mail arrives while Postwise is in the background."
    >
      <Stack spacing={2}>
        {me.isPending && <Skeleton variant="rounded" height={96} />}
        {me.isError && <Alert severity="error">{`Couldn't load your settings. ${errorMessage(me.error)}`}</Alert>}
        {me.isSuccess && (
          <FormControl disabled={update.isPending}>
            <FormLabel id={labelId}>Notify me about</FormLabel>
            <RadioGroup
              aria-labelledby={labelId}
              name="new-mail-notifications"
              value={choice ?? "none"}
              onChange={(_, value) => update.mutate({ new_mail_notifications: value as Choice })}
            >
              {CHOICES.map(({ value, label, hint }) => (
                <FormControlLabel
                  key={value}
                  value={value}
                  control={<Radio />}
                  label={
                    <span>
                      {label}
                      <Typography component="span" variant="body2" color="text.secondary" sx={{ display: "block" }}>
                        {hint}
                      </Typography>
                    </span>
                  }
                  sx={{ alignItems: "flex-start", mb: 1, "& .MuiRadio-root": { pt: 0.5 } }}
                />
              ))}
            </RadioGroup>
          </FormControl>
        )}
        {update.isError && (
          <Alert severity="error" role="alert">
            {`Couldn't save the setting. ${errorMessage(update.error)}`}
          </Alert>
        )}
        <PermissionState
          permission={permission}
          wanted={choice !== undefined && choice !== "none"}
          onAsk={() => void ask()}
          asking={asking}
        />
      </Stack>
    </SectionCard>
  );
}
