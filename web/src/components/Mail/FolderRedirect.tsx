"use client";

import Link from "@mui/material/Link";
import NextLink from "next/link";
import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** Old folder addresses (`/sent/`) lead to the same place in the mail view (`/?folder=sent`). */
export function FolderRedirect({ href }: { href: string }) {
  const router = useRouter();
  useEffect(() => {
    router.replace(href);
  }, [router, href]);
  // Shown only for the moment before the redirect, or if scripts are slow to start.
  return (
    <Link component={NextLink} href={href}>
      Open this folder
    </Link>
  );
}
