import type { Metadata } from "next";

import { EmptyFolder } from "@/components/Mail/EmptyFolder";

export const metadata: Metadata = { title: "Drafts" };

export default function DraftsPage() {
  return <EmptyFolder title="Drafts" />;
}
