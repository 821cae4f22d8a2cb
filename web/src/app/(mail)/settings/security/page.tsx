import type { Metadata } from "next";

import { SecurityPage } from "@/components/Security/SecurityPage";

export const metadata: Metadata = { title: "Security" };

export default function SecuritySettingsPage() {
  return <SecurityPage />;
}
