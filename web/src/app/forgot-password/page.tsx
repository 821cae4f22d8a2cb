import type { Metadata } from "next";
import { Suspense } from "react";

import { CenteredSpinner } from "@/components/Auth/CenteredSpinner";
import { ForgotPasswordCard } from "@/components/PasswordReset/ForgotPasswordCard";

export const metadata: Metadata = { title: "Forgot password" };

export default function ForgotPasswordPage() {
  return (
    <Suspense fallback={<CenteredSpinner />}>
      <ForgotPasswordCard />
    </Suspense>
  );
}
