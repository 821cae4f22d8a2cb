"use client";

import Add from "@mui/icons-material/Add";
import AutoAwesomeOutlined from "@mui/icons-material/AutoAwesomeOutlined";
import MarkEmailUnreadOutlined from "@mui/icons-material/MarkEmailUnreadOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { useRouter } from "next/navigation";

import { useLoadDemo } from "@/api/accounts";
import { errorMessage } from "@/api/problem";

/**
 * What the mail view shows before the user has any mailbox: a welcome and the two ways on,
 * adding a real mailbox or trying Postwise with the demo mailbox.
 */
export function FirstRun() {
  const demo = useLoadDemo();
  const router = useRouter();

  const loadDemo = () =>
    demo.mutate(undefined, {
      // The mailbox exists now and fills in the background; the inbox shows it arriving.
      onSuccess: () => router.push("/"),
    });

  return (
    <Box
      component="section"
      aria-labelledby="first-run-title"
      sx={{
        flexGrow: 1,
        display: "flex",
        flexDirection: "column",
        alignItems: "center",
        justifyContent: "center",
        textAlign: "center",
        py: { xs: 6, sm: 10 },
        px: 2,
      }}
    >
      <MarkEmailUnreadOutlined color="primary" sx={{ fontSize: 56, mb: 2 }} aria-hidden />
      <Typography id="first-run-title" variant="h5" component="h1" sx={{ mb: 1 }}>
        Welcome to Postwise
      </Typography>
      <Typography color="text.secondary" sx={{ maxWidth: 480, mb: 3 }}>
        Connect the mailbox you already use — Gmail, Outlook, iCloud, Fastmail or any IMAP
        provider — and your mail appears here. Or look around first with a demo mailbox full of
        sample mail.
      </Typography>
      {demo.isError && (
        <Alert severity="error" role="alert" sx={{ mb: 2, maxWidth: 480, textAlign: "left" }}>
          {errorMessage(demo.error, {
            account_not_local:
              "One of your mailboxes already uses the demo address, so the demo mailbox can't be added.",
          })}
        </Alert>
      )}
      <Stack direction={{ xs: "column", sm: "row" }} spacing={1.5} sx={{ width: { xs: "100%", sm: "auto" }, maxWidth: { xs: 360, sm: "none" } }}>
        <Button
          component={NextLink}
          href="/settings/mailboxes/?add=1"
          variant="contained"
          size="large"
          startIcon={<Add />}
        >
          Add a mailbox
        </Button>
        <Button
          variant="outlined"
          size="large"
          startIcon={<AutoAwesomeOutlined />}
          loading={demo.isPending}
          loadingPosition="start"
          onClick={loadDemo}
        >
          Load the demo mailbox
        </Button>
      </Stack>
    </Box>
  );
}
