import type { Metadata } from "next";
import { Suspense } from "react";

import { CenteredSpinner } from "@/components/Auth/CenteredSpinner";
import { VerifyEmailCard } from "@/components/VerifyEmail/VerifyEmailCard";

export const metadata: Metadata = { title: "Confirm email" };

export default function VerifyEmailPage() {
  return (
    <Suspense fallback={<CenteredSpinner />}>
      <VerifyEmailCard />
    </Suspense>
  );
}
