import type { Metadata } from "next";

import { EmptyFolder } from "@/components/Mail/EmptyFolder";

export const metadata: Metadata = { title: "Starred" };

export default function StarredPage() {
  return <EmptyFolder title="Starred" />;
}
