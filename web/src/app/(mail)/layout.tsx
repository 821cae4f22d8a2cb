import type { ReactNode } from "react";

import { RequireAuth } from "@/auth/RequireAuth";
import { AppShell } from "@/components/Shell/AppShell";

export default function MailLayout({ children }: { children: ReactNode }) {
  return (
    <RequireAuth>
      <AppShell>{children}</AppShell>
    </RequireAuth>
  );
}
