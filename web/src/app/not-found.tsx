import type { Metadata } from "next";

import { LazyNotFound } from "@/components/NotFound/LazyNotFound";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFoundPage() {
  return <LazyNotFound />;
}
