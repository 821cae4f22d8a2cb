"use client";

import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";

import { CenteredSpinner } from "@/components/Auth/CenteredSpinner";

import { useAuth } from "./AuthProvider";
import { signInUrl } from "./redirect";

/**
 * Renders its children only for a signed-in tab: a spinner while the session
 * is restored, then a redirect to sign-in (coming back here afterwards unless
 * the user signed out on purpose).
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { state } = useAuth();
  const router = useRouter();
  const pathname = usePathname();

  const signedOut = state.status === "signed-out";
  const explicit = signedOut && state.reason === "explicit";
  useEffect(() => {
    if (!signedOut) return;
    // The query string is read here rather than with useSearchParams, which
    // would need a Suspense boundary around the whole shell.
    const here = `${pathname ?? "/"}${window.location.search}`;
    router.replace(explicit ? "/signin/" : signInUrl(here));
  }, [signedOut, explicit, pathname, router]);

  if (state.status !== "signed-in") {
    return <CenteredSpinner label={signedOut ? "Redirecting to sign in" : "Restoring your session"} />;
  }
  return <>{children}</>;
}
