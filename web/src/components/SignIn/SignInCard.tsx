"use client";

import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Card from "@mui/material/Card";
import CardContent from "@mui/material/CardContent";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import type { FormEvent } from "react";

const HELPER_ID = "signin-unavailable";

/**
 * Sign-in layout. Accounts (and with them the login endpoint) are not built
 * yet, so the button stays disabled and says why instead of faking a login.
 */
export function SignInCard() {
  const preventSubmit = (event: FormEvent<HTMLFormElement>) => event.preventDefault();

  return (
    <Box
      component="main"
      sx={{
        minHeight: "100dvh",
        display: "grid",
        placeItems: "center",
        p: 2,
        bgcolor: "background.default",
      }}
    >
      <Card variant="outlined" sx={{ width: "100%", maxWidth: 400 }}>
        <CardContent sx={{ p: 4 }}>
          <Typography variant="h4" component="h1" sx={{ fontWeight: 600 }}>
            Postwise
          </Typography>
          <Typography color="text.secondary" sx={{ mb: 3 }}>
            Sign in to your mailbox
          </Typography>
          <Stack
            component="form"
            aria-label="Sign in"
            noValidate
            spacing={2}
            onSubmit={preventSubmit}
          >
            <TextField
              label="Email"
              type="email"
              name="email"
              autoComplete="email"
              required
              fullWidth
            />
            <TextField
              label="Password"
              type="password"
              name="password"
              autoComplete="current-password"
              required
              fullWidth
            />
            <Button
              type="submit"
              variant="contained"
              size="large"
              disabled
              aria-describedby={HELPER_ID}
              fullWidth
            >
              Sign in
            </Button>
            <Typography id={HELPER_ID} variant="body2" color="text.secondary">
              Sign-in arrives with accounts: this server does not have user accounts yet.
            </Typography>
          </Stack>
        </CardContent>
      </Card>
    </Box>
  );
}
