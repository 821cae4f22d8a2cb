"use client";

import ContentCopy from "@mui/icons-material/ContentCopy";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import { useState, type FormEvent } from "react";

import { useCreateInvite } from "@/api/admin";
import { errorMessage } from "@/api/problem";
import { useCopy } from "@/components/Security/Mfa/useCopy";
import { SectionCard } from "@/components/Security/SectionCard";

/** Invite someone: a sign-up link valid for a week, mailed when an address is given. */
export function InvitesCard() {
  const [email, setEmail] = useState("");
  const invite = useCreateInvite();
  const { copy, copied, failed } = useCopy();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    invite.mutate(email.trim() || null);
  };

  return (
    <SectionCard
      id="invites"
      title="Invitations"
      description="An invitation link lets one person create an account, even when sign-up is invite-only. It works for 7 days."
    >
      <Stack component="form" noValidate onSubmit={submit} aria-label="Create an invitation" spacing={2}>
        {invite.isError && (
          <Alert severity="error" role="alert">
            {errorMessage(invite.error, { validation_error: "That doesn't look like an email address." })}
          </Alert>
        )}
        <Box sx={{ display: "flex", gap: 1, flexDirection: { xs: "column", sm: "row" }, alignItems: { sm: "flex-start" } }}>
          <TextField
            label="Email (optional)"
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            helperText="We mail the link there; leave empty to share it yourself"
            size="small"
            sx={{ flexGrow: 1, maxWidth: { sm: 360 } }}
            slotProps={{ htmlInput: { autoCapitalize: "none", spellCheck: false } }}
          />
          <Button type="submit" variant="outlined" loading={invite.isPending} sx={{ flexShrink: 0 }}>
            Create invitation
          </Button>
        </Box>
        {invite.isSuccess && (
          <Box>
            <Alert severity="success" sx={{ mb: 1.5 }}>
              {invite.variables
                ? `Invitation sent to ${invite.variables}. You can also share the link below.`
                : "Invitation ready. Send this link to the person you invite."}
            </Alert>
            <Box sx={{ display: "flex", gap: 1, alignItems: "flex-start", flexWrap: { xs: "wrap", sm: "nowrap" } }}>
              <TextField
                label="Invitation link"
                value={invite.data.link}
                size="small"
                fullWidth
                slotProps={{ htmlInput: { readOnly: true, onFocus: (e: FormEvent<HTMLInputElement>) => e.currentTarget.select() } }}
              />
              <Button
                startIcon={<ContentCopy />}
                onClick={() => void copy(invite.data.link)}
                sx={{ flexShrink: 0 }}
              >
                {copied ? "Copied" : "Copy link"}
              </Button>
            </Box>
            {failed && (
              <Alert severity="warning" sx={{ mt: 1 }}>
                Couldn&apos;t copy automatically: select the link and copy it.
              </Alert>
            )}
          </Box>
        )}
      </Stack>
    </SectionCard>
  );
}
