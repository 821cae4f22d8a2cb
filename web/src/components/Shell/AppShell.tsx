"use client";

import EditOutlined from "@mui/icons-material/EditOutlined";
import MenuIcon from "@mui/icons-material/Menu";
import AppBar from "@mui/material/AppBar";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Drawer from "@mui/material/Drawer";
import IconButton from "@mui/material/IconButton";
import Toolbar from "@mui/material/Toolbar";
import Typography from "@mui/material/Typography";
import NextLink from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { Suspense, useState, type ReactNode } from "react";

import { ComposeProvider, useCompose } from "@/components/Compose/ComposeProvider";
import { parseLocation } from "@/components/Mail/location";
import { NotificationBell } from "@/components/Notifications/NotificationBell";
import { SearchBar } from "@/components/Search/SearchBar";
import { LiveUpdates } from "@/live/LiveUpdates";

import { HealthChip } from "./HealthChip";
import { NavList } from "./NavList";
import { UserMenu } from "./UserMenu";

const DRAWER_WIDTH = 256;
const MOBILE_NAV_ID = "mobile-navigation";

/** The navigation with the mail view's place read from the address. */
function CurrentNavList({ onNavigate }: { onNavigate?: () => void }) {
  const searchParams = useSearchParams();
  return <NavList current={parseLocation(searchParams)} onNavigate={onNavigate} />;
}

/** useSearchParams needs a Suspense boundary in a static export; the fallback is the same list. */
function Navigation({ onNavigate }: { onNavigate?: () => void }) {
  return (
    <Suspense fallback={<NavList current={null} onNavigate={onNavigate} />}>
      <CurrentNavList onNavigate={onNavigate} />
    </Suspense>
  );
}

/** "Compose" at the top of the navigation, as in Gmail. */
function ComposeButton({ onOpen }: { onOpen?: () => void }) {
  const { openNew } = useCompose();
  return (
    <Box sx={{ px: 1.5, pt: 1.5, pb: 0.5 }}>
      <Button
        variant="contained"
        startIcon={<EditOutlined />}
        aria-keyshortcuts="c"
        onClick={() => {
          onOpen?.();
          openNew();
        }}
        sx={{ borderRadius: 4, px: 2.5, py: 1.25, textTransform: "none", fontWeight: 600, boxShadow: 1 }}
      >
        Compose
      </Button>
    </Box>
  );
}

/** On a phone the navigation hides in a drawer: Compose floats over the list instead. */
function ComposeFab() {
  const { openNew } = useCompose();
  // A Button dressed as an extended FAB: MUI's Fab would add its own code to the first load.
  return (
    <Button
      variant="contained"
      startIcon={<EditOutlined />}
      onClick={() => openNew()}
      sx={{
        position: "fixed",
        right: 16,
        bottom: 16,
        zIndex: (theme) => theme.zIndex.speedDial,
        display: { xs: "inline-flex", md: "none" },
        height: 48,
        px: 2.5,
        borderRadius: 6,
        boxShadow: 6,
        textTransform: "none",
        fontWeight: 600,
      }}
    >
      Compose
    </Button>
  );
}

/**
 * Top bar (name, search in the centre, status, notifications, account), navigation and
 * content. Which drawer shows is decided by CSS breakpoints rather than a JS media query, so
 * the prerendered HTML is already right for the device and nothing jumps during hydration.
 * The mail view (`/`) fills the screen and scrolls inside its own panes; other pages scroll.
 */
export function AppShell({ children }: { children: ReactNode }) {
  const [mobileOpen, setMobileOpen] = useState(false);
  const closeMobile = () => setMobileOpen(false);
  const pathname = usePathname();
  const mailScreen = pathname === "/" || pathname === "";

  return (
    <ComposeProvider>
      <Box sx={{ display: "flex", minHeight: "100dvh" }}>
        <LiveUpdates />
        <AppBar
          position="fixed"
          color="inherit"
          elevation={0}
          sx={{ zIndex: (theme) => theme.zIndex.drawer + 1, borderBottom: 1, borderColor: "divider" }}
        >
          <Toolbar sx={{ gap: { xs: 0.5, sm: 1 }, px: { xs: 1, sm: 2 } }}>
            <IconButton
              edge="start"
              aria-label="Open navigation"
              aria-controls={MOBILE_NAV_ID}
              aria-expanded={mobileOpen}
              onClick={() => setMobileOpen((open) => !open)}
              sx={{ display: { md: "none" } }}
            >
              <MenuIcon />
            </IconButton>
            <Typography
              variant="h6"
              component={NextLink}
              href="/"
              sx={{
                display: { xs: "none", sm: "block" },
                width: { md: DRAWER_WIDTH - 24 },
                flex: "none",
                fontWeight: 600,
                color: "inherit",
                textDecoration: "none",
              }}
            >
              Postwise
            </Typography>
            <Box sx={{ flex: 1, minWidth: 0, display: "flex", justifyContent: "center" }}>
              <Box sx={{ width: "100%", maxWidth: 720 }}>
                <Suspense fallback={null}>
                  <SearchBar />
                </Suspense>
              </Box>
            </Box>
            <HealthChip />
            <NotificationBell />
            <UserMenu />
          </Toolbar>
        </AppBar>

        <Box sx={{ width: { md: DRAWER_WIDTH }, flexShrink: { md: 0 } }}>
          <Drawer
            variant="temporary"
            open={mobileOpen}
            onClose={closeMobile}
            sx={{ display: { xs: "block", md: "none" }, "& .MuiDrawer-paper": { width: DRAWER_WIDTH } }}
            slotProps={{ paper: { id: MOBILE_NAV_ID } }}
          >
            <Toolbar />
            <ComposeButton onOpen={closeMobile} />
            <Navigation onNavigate={closeMobile} />
          </Drawer>
          <Drawer
            variant="permanent"
            open
            sx={{
              display: { xs: "none", md: "block" },
              "& .MuiDrawer-paper": { width: DRAWER_WIDTH, boxSizing: "border-box" },
            }}
          >
            <Toolbar />
            <ComposeButton />
            <Navigation />
          </Drawer>
        </Box>

        <Box
          component="main"
          sx={
            mailScreen
              ? { flexGrow: 1, minWidth: 0, height: "100dvh", display: "flex", flexDirection: "column", overflow: "hidden" }
              : { flexGrow: 1, minWidth: 0, p: { xs: 2, sm: 3 }, display: "flex", flexDirection: "column" }
          }
        >
          <Toolbar sx={{ flex: "none" }} />
          {mailScreen ? (
            <Box sx={{ flex: 1, minHeight: 0, display: "flex" }}>{children}</Box>
          ) : (
            children
          )}
        </Box>
        {mailScreen && <ComposeFab />}
      </Box>
    </ComposeProvider>
  );
}
