import type { Metadata } from "next";

import { AdminPage } from "@/components/Admin/AdminPage";

export const metadata: Metadata = { title: "Administration" };

export default function AdminRoute() {
  return <AdminPage />;
}
