import type { Metadata } from "next";

import { EmptyFolder } from "@/components/Mail/EmptyFolder";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <EmptyFolder
      title="Settings"
      message="Nothing to configure yet — settings arrive with accounts and mailboxes"
    />
  );
}
