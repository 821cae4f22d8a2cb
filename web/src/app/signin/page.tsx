import type { Metadata } from "next";

import { SignInCard } from "@/components/SignIn/SignInCard";

export const metadata: Metadata = { title: "Sign in" };

export default function SignInPage() {
  return <SignInCard />;
}
