import { ThemeProvider } from "@mui/material/styles";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement } from "react";

import { AuthProvider } from "@/auth/AuthProvider";
import { theme } from "@/theme";

/**
 * Render with the app's providers; queries never retry so errors show at once.
 * The auth state is whatever the test put in `authStore` (no restore on mount).
 */
export function renderWithProviders(ui: ReactElement): RenderResult {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <AuthProvider restore={false}>
        <ThemeProvider theme={theme}>{ui}</ThemeProvider>
      </AuthProvider>
    </QueryClientProvider>,
  );
}

/** A fetch stub answering every request with the given JSON body and status. */
export function jsonFetch(body: unknown, status = 200): typeof fetch {
  return async () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
}
