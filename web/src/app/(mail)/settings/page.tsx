import type { Metadata } from "next";

import { SettingsIndex } from "@/components/Settings/SettingsIndex";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return <SettingsIndex />;
}
