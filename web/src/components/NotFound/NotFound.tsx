"use client";

import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";
import Link from "next/link";

export function NotFound() {
  return (
    <Box
      component="main"
      sx={{
        minHeight: "100dvh",
        display: "grid",
        placeContent: "center",
        justifyItems: "center",
        gap: 2,
        p: 2,
        textAlign: "center",
      }}
    >
      <Typography variant="h4" component="h1">
        Page not found
      </Typography>
      <Typography color="text.secondary">
        There is nothing at this address in Postwise.
      </Typography>
      <Button component={Link} href="/" variant="contained">
        Back to the inbox
      </Button>
    </Box>
  );
}
