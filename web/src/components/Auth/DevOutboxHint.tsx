"use client";

import Alert from "@mui/material/Alert";
import AlertTitle from "@mui/material/AlertTitle";
import Link from "@mui/material/Link";
import Stack from "@mui/material/Stack";

import { useDevOutbox } from "@/api/devOutbox";

/**
 * On a development server without SMTP the mail is kept, not sent: show its
 * links right here so a self-hoster can go on. Renders nothing elsewhere.
 */
export function DevOutboxHint({ email }: { email: string }) {
  const outbox = useDevOutbox(email);
  const newest = outbox.data?.[0];
  if (newest === undefined) return null;
  const links = newest.links ?? [];
  return (
    <Alert severity="info" role="note" sx={{ alignSelf: "stretch" }}>
      <AlertTitle>Development server</AlertTitle>
      This server keeps mail instead of sending it. “{newest.subject}”:
      <Stack component="ul" sx={{ m: 0, mt: 1, pl: 2 }}>
        {links.map((link) => (
          <li key={link}>
            <Link href={link} sx={{ wordBreak: "break-all" }}>
              {link}
            </Link>
          </li>
        ))}
      </Stack>
    </Alert>
  );
}
