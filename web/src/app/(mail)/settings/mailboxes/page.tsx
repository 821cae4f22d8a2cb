import type { Metadata } from "next";
import { Suspense } from "react";

import { MailboxesPage } from "@/components/Mailboxes/MailboxesPage";

export const metadata: Metadata = { title: "Mailboxes" };

export default function MailboxesSettingsPage() {
  // The page reads ?add=1, which a static export only knows in the browser.
  return (
    <Suspense fallback={null}>
      <MailboxesPage />
    </Suspense>
  );
}
