"use client";

import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import CircularProgress from "@mui/material/CircularProgress";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { useQuery } from "@tanstack/react-query";
import NextLink from "next/link";
import { useSearchParams } from "next/navigation";

import { verifyEmail } from "@/api/auth";
import { errorMessage } from "@/api/problem";
import { AuthCard } from "@/components/Auth/AuthCard";

const MESSAGES = {
  invalid_token:
    "This confirmation link is invalid, already used or expired. Sign in to get a new one sent to you.",
};

/** Landing page of the confirmation link: posts the token once, on load. */
export function VerifyEmailCard() {
  const token = useSearchParams().get("token") ?? "";
  const verification = useQuery({
    queryKey: ["verify-email", token],
    queryFn: () => verifyEmail(token),
    enabled: token !== "",
    retry: false,
    staleTime: Infinity,
    gcTime: Infinity,
  });

  return (
    <AuthCard subtitle="Confirm your email address">
      <Stack spacing={2} sx={{ alignItems: "flex-start" }}>
        {token === "" && (
          <Alert severity="error" role="alert" sx={{ alignSelf: "stretch" }}>
            This link has no confirmation token. Open the link from the email exactly as it was sent.
          </Alert>
        )}
        {token !== "" && verification.isPending && (
          <Stack direction="row" spacing={2} sx={{ alignItems: "center" }} role="status">
            <CircularProgress size={24} aria-hidden />
            <Typography>Confirming your email address…</Typography>
          </Stack>
        )}
        {verification.isSuccess && (
          <Alert severity="success" role="status" sx={{ alignSelf: "stretch" }}>
            Your email address is confirmed.
          </Alert>
        )}
        {verification.isError && (
          <Alert severity="error" role="alert" sx={{ alignSelf: "stretch" }}>
            {errorMessage(verification.error, MESSAGES)}
          </Alert>
        )}
        {!verification.isPending || token === "" ? (
          <Button
            component={NextLink}
            href={verification.isSuccess ? "/signin/?verified=1" : "/signin/"}
            variant="contained"
          >
            Sign in
          </Button>
        ) : null}
      </Stack>
    </AuthCard>
  );
}
