import type { Metadata } from "next";
import { Suspense } from "react";

import { CenteredSpinner } from "@/components/Auth/CenteredSpinner";
import { SignUpCard } from "@/components/SignUp/SignUpCard";

export const metadata: Metadata = { title: "Create account" };

export default function SignUpPage() {
  return (
    <Suspense fallback={<CenteredSpinner />}>
      <SignUpCard />
    </Suspense>
  );
}
