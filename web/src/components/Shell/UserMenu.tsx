"use client";

import Avatar from "@mui/material/Avatar";
import IconButton from "@mui/material/IconButton";
import { lazy, Suspense, useId, useState } from "react";

import { useMe } from "@/api/users";
import { useAuth } from "@/auth/AuthProvider";
import { visuallyHidden } from "@/components/Mail/listStyles";
import { useOpenedOnce, usePreloadOnIdle } from "@/components/lazy/lazy";

// Lazy: the menu (MUI Menu/Popover) opens on demand; the avatar button stays eager.
const loadAccountMenu = () => import("./AccountMenu");
const AccountMenu = lazy(() => loadAccountMenu().then((m) => ({ default: m.AccountMenu })));

function initials(name: string | null | undefined, email: string | undefined): string {
  const source = name?.trim() || email || "";
  const parts = source.split(/[\s@._-]+/).filter(Boolean);
  const letters = parts.length > 1 ? `${parts[0]?.[0] ?? ""}${parts[1]?.[0] ?? ""}` : source.slice(0, 1);
  return letters.toUpperCase() || "?";
}

/** The avatar in the top bar: who is signed in, account links and sign-out. */
export function UserMenu() {
  const me = useMe();
  const { signOut } = useAuth();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const menuId = useId();
  const close = () => setAnchor(null);
  const used = useOpenedOnce(anchor !== null);
  usePreloadOnIdle(loadAccountMenu);
  const user = me.data;

  const onSignOut = async () => {
    setSigningOut(true);
    close();
    await signOut();
  };

  return (
    <>
      <IconButton
        aria-controls={anchor ? menuId : undefined}
        aria-haspopup="menu"
        aria-expanded={anchor !== null}
        onClick={(event) => setAnchor(event.currentTarget)}
        disabled={signingOut}
        sx={{ ml: 1 }}
      >
        {/* Named by hidden text rather than aria-label, so the initials shown are not a
            visible label missing from the name (WCAG 2.5.3). */}
        <span style={visuallyHidden}>Account menu</span>
        <Avatar aria-hidden sx={{ width: 32, height: 32, fontSize: 14, bgcolor: "primary.main" }}>
          {initials(user?.name, user?.email)}
        </Avatar>
      </IconButton>
      {used && (
        <Suspense fallback={null}>
          <AccountMenu menuId={menuId} anchor={anchor} user={user} close={close} onSignOut={() => void onSignOut()} />
        </Suspense>
      )}
    </>
  );
}
