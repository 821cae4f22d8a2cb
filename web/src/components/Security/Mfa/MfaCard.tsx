"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Skeleton from "@mui/material/Skeleton";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { useTotpSetup, type TotpSetup } from "@/api/mfa";
import { errorMessage } from "@/api/problem";
import { userKeys, useMe } from "@/api/users";

import { SectionCard } from "../SectionCard";
import { DisableMfaDialog } from "./DisableMfaDialog";
import { RecoveryCodes } from "./RecoveryCodes";
import { TotpSetupForm } from "./TotpSetupForm";

type Flow = { step: "idle" } | { step: "setup"; setup: TotpSetup } | { step: "codes"; codes: string[] };

/** Two-factor authentication with an authenticator app (TOTP) and recovery codes. */
export function MfaCard() {
  const me = useMe();
  const queryClient = useQueryClient();
  const setup = useTotpSetup();
  const [flow, setFlow] = useState<Flow>({ step: "idle" });
  const [disabling, setDisabling] = useState(false);
  const enabled = me.data?.mfa_enabled ?? false;

  const finish = () => {
    setFlow({ step: "idle" });
    void queryClient.invalidateQueries({ queryKey: userKeys.me });
  };

  const status =
    me.data === undefined ? null : (
      <Chip
        size="small"
        label={enabled || flow.step === "codes" ? "On" : "Off"}
        color={enabled || flow.step === "codes" ? "success" : "default"}
        variant="outlined"
        data-testid="mfa-status"
      />
    );

  let body;
  if (flow.step === "codes") {
    body = <RecoveryCodes codes={flow.codes} onDone={finish} />;
  } else if (flow.step === "setup") {
    body = (
      <TotpSetupForm
        setup={flow.setup}
        onEnabled={(codes) => setFlow({ step: "codes", codes })}
        onCancel={() => setFlow({ step: "idle" })}
      />
    );
  } else if (me.isPending) {
    body = <Skeleton variant="rounded" height={36} width={240} />;
  } else if (me.isError) {
    body = <Alert severity="error">{errorMessage(me.error)}</Alert>;
  } else if (enabled) {
    body = (
      <Button variant="outlined" color="error" onClick={() => setDisabling(true)}>
        Turn off two-factor authentication
      </Button>
    );
  } else {
    body = (
      <>
        {setup.isError && (
          <Alert severity="error" role="alert" sx={{ mb: 2 }}>
            {errorMessage(setup.error)}
          </Alert>
        )}
        <Button
          variant="contained"
          loading={setup.isPending}
          onClick={() =>
            setup.mutate(undefined, {
              onSuccess: (data) => setFlow({ step: "setup", setup: data }),
            })
          }
        >
          Set up authenticator app
        </Button>
      </>
    );
  }

  return (
    <SectionCard
      id="mfa"
      title="Two-factor authentication"
      action={status}
      description={
        enabled
          ? "Signing in asks for a code from your authenticator app (or a recovery code) after the password."
          : "Protect the account with a second step at sign-in: a 6-digit code from an " +
            "authenticator app such as Aegis, Google Authenticator or 1Password."
      }
    >
      {body}
      <DisableMfaDialog open={disabling} onClose={() => setDisabling(false)} />
    </SectionCard>
  );
}
