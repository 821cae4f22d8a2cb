import type { Metadata } from "next";

import { NotificationsPage } from "@/components/Notifications/NotificationsPage";

export const metadata: Metadata = { title: "Notifications" };

export default function NotificationSettingsPage() {
  return <NotificationsPage />;
}
