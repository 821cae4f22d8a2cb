import ArchiveOutlined from "@mui/icons-material/ArchiveOutlined";
import DraftsOutlined from "@mui/icons-material/DraftsOutlined";
import InboxOutlined from "@mui/icons-material/InboxOutlined";
import SendOutlined from "@mui/icons-material/SendOutlined";
import SettingsOutlined from "@mui/icons-material/SettingsOutlined";
import StarBorderOutlined from "@mui/icons-material/StarBorderOutlined";
import type { SvgIconComponent } from "@mui/icons-material";

export interface NavEntry {
  label: string;
  href: string;
  icon: SvgIconComponent;
}

/** Top-level destinations; every href is a statically exported route. */
export const mailNav: readonly NavEntry[] = [
  { label: "Inbox", href: "/", icon: InboxOutlined },
  { label: "Starred", href: "/starred/", icon: StarBorderOutlined },
  { label: "Sent", href: "/sent/", icon: SendOutlined },
  { label: "Drafts", href: "/drafts/", icon: DraftsOutlined },
  { label: "Archive", href: "/archive/", icon: ArchiveOutlined },
];

export const settingsNav: NavEntry = {
  label: "Settings",
  href: "/settings/",
  icon: SettingsOutlined,
};

/** Compare paths with and without the trailing slash the export adds. */
export function isActive(href: string, pathname: string | null): boolean {
  if (pathname === null) return false;
  const strip = (path: string) => (path.length > 1 ? path.replace(/\/+$/, "") : path);
  return strip(href) === strip(pathname);
}
