import type { Metadata } from "next";
import { Suspense } from "react";

import { CenteredSpinner } from "@/components/Auth/CenteredSpinner";
import { SignInCard } from "@/components/SignIn/SignInCard";

export const metadata: Metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <Suspense fallback={<CenteredSpinner />}>
      <SignInCard />
    </Suspense>
  );
}
