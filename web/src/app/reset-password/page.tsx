import type { Metadata } from "next";
import { Suspense } from "react";

import { CenteredSpinner } from "@/components/Auth/CenteredSpinner";
import { ResetPasswordCard } from "@/components/PasswordReset/ResetPasswordCard";

export const metadata: Metadata = { title: "Choose a new password" };

export default function ResetPasswordPage() {
  return (
    <Suspense fallback={<CenteredSpinner />}>
      <ResetPasswordCard />
    </Suspense>
  );
}
