"use client";

import { createTheme } from "@mui/material/styles";

/**
 * Light and dark palettes are emitted as CSS variables and switched with a class
 * on <html>: the system setting by default, or the user's choice (Settings →
 * Appearance). InitColorSchemeScript in the root layout sets the class before the
 * first paint (its inline script is hashed into the CSP by scripts/csp-hashes.mjs).
 */
export const theme = createTheme({
  cssVariables: { colorSchemeSelector: "class" },
  colorSchemes: {
    light: {
      palette: {
        primary: { main: "#1f5fbf" },
        background: { default: "#f6f7f9" },
      },
    },
    dark: {
      palette: {
        primary: { main: "#8ab4f8" },
        background: { default: "#111317", paper: "#181b20" },
      },
    },
  },
  typography: {
    fontFamily: [
      "system-ui",
      "-apple-system",
      '"Segoe UI"',
      "Roboto",
      '"Helvetica Neue"',
      "Arial",
      '"Noto Sans"',
      "sans-serif",
      '"Apple Color Emoji"',
      '"Segoe UI Emoji"',
    ].join(","),
  },
  shape: { borderRadius: 10 },
  components: {
    // MUI's default (action.active, 54 % black) is 4.49:1 on the page background, just under
    // WCAG AA for 13 px text; the secondary text colour passes in both schemes.
    MuiToggleButton: {
      styleOverrides: {
        root: ({ theme: t }) => ({ color: (t.vars ?? t).palette.text.secondary }),
      },
    },
  },
});
