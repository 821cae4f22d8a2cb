import type { Metadata } from "next";

import { AiSettingsPage } from "@/components/Assistant/AiSettingsPage";

export const metadata: Metadata = { title: "AI assistant" };

export default function AiSettingsRoute() {
  return <AiSettingsPage />;
}
