import type { Metadata } from "next";

import { EmptyFolder } from "@/components/Mail/EmptyFolder";

export const metadata: Metadata = { title: "Inbox" };

export default function InboxPage() {
  return <EmptyFolder title="Inbox" />;
}
