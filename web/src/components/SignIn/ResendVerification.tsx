"use client";

import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";

import { useResendVerification } from "@/api/auth";
import { errorMessage } from "@/api/problem";

/** "Send the verification link again" for an address that is not verified yet. */
export function ResendVerification({ email }: { email: string }) {
  const resend = useResendVerification();
  return (
    <Box sx={{ mt: 1 }}>
      {resend.isSuccess ? (
        <Typography variant="body2" role="status">
          If {email} has an account waiting for confirmation, a new link is on its way.
        </Typography>
      ) : (
        <Button
          size="small"
          variant="outlined"
          color="inherit"
          loading={resend.isPending}
          disabled={!email}
          onClick={() => resend.mutate(email)}
        >
          Resend verification email
        </Button>
      )}
      {resend.isError && (
        <Typography variant="body2" role="alert" sx={{ mt: 1 }}>
          {errorMessage(resend.error)}
        </Typography>
      )}
    </Box>
  );
}
