import type { Metadata } from "next";
import { Suspense } from "react";

import { MailFallback } from "@/components/Mail/MailFallback";
import { MailView } from "@/components/Mail/MailView";

export const metadata: Metadata = { title: "Inbox" };

/**
 * The whole mail client is this one page: folder, mailbox, search and open thread live in the
 * query string (a static export has no dynamic routes), which needs a Suspense boundary.
 */
export default function MailPage() {
  return (
    <Suspense fallback={<MailFallback />}>
      <MailView />
    </Suspense>
  );
}
