"use client";

import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";

import { isMfaRequired, type LoginResult } from "@/api/auth";
import { useAuth } from "@/auth/AuthProvider";
import { safeNext } from "@/auth/redirect";
import { AuthCard } from "@/components/Auth/AuthCard";

import { CredentialsForm } from "./CredentialsForm";
import { MfaForm } from "./MfaForm";

type Step =
  | { step: "credentials"; notice?: string }
  | { step: "mfa"; mfaToken: string; email: string };

function banner(params: URLSearchParams): string | undefined {
  if (params.get("reset") === "1") return "Your password was changed. Sign in with the new one.";
  if (params.get("verified") === "1") return "Your email address is confirmed. You can sign in now.";
  return undefined;
}

/**
 * Sign-in: email and password, then — for accounts with two-factor
 * authentication — a code, in the same card. Afterwards it returns to
 * `?next=` (same-origin paths only).
 */
export function SignInCard() {
  const params = useSearchParams();
  const router = useRouter();
  const { status, signIn } = useAuth();
  const [step, setStep] = useState<Step>({ step: "credentials" });
  const next = safeNext(params.get("next"));
  const success = banner(params);

  // Also covers a session restored from the refresh cookie on this page.
  useEffect(() => {
    if (status === "signed-in") router.replace(next);
  }, [status, next, router]);

  const onResult = (result: LoginResult, email: string) => {
    if (isMfaRequired(result)) setStep({ step: "mfa", mfaToken: result.mfa_token, email });
    else signIn(result);
  };

  return (
    <AuthCard subtitle={step.step === "mfa" ? "Two-factor authentication" : "Sign in to your mailbox"}>
      {success && step.step === "credentials" && (
        <Alert severity="success" sx={{ mb: 2 }}>
          {success}
        </Alert>
      )}
      <Box>
        {step.step === "credentials" ? (
          <CredentialsForm onResult={onResult} notice={step.notice} />
        ) : (
          <MfaForm
            mfaToken={step.mfaToken}
            email={step.email}
            onSignedIn={signIn}
            onRestart={(notice) => setStep({ step: "credentials", notice })}
          />
        )}
      </Box>
    </AuthCard>
  );
}
