import type { Metadata } from "next";

import { AppearanceSettings } from "@/components/Mail/AppearanceSettings";

export const metadata: Metadata = { title: "Appearance" };

export default function AppearanceSettingsPage() {
  return <AppearanceSettings />;
}
