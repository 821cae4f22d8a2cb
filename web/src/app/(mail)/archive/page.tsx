import type { Metadata } from "next";

import { EmptyFolder } from "@/components/Mail/EmptyFolder";

export const metadata: Metadata = { title: "Archive" };

export default function ArchivePage() {
  return <EmptyFolder title="Archive" />;
}
