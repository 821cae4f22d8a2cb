import type { Metadata } from "next";

import { EmptyFolder } from "@/components/Mail/EmptyFolder";

export const metadata: Metadata = { title: "Sent" };

export default function SentPage() {
  return <EmptyFolder title="Sent" />;
}
