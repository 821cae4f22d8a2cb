import { FolderRedirect } from "@/components/Mail/FolderRedirect";

export default function LegacyStarredPage() {
  return <FolderRedirect href="/?q=is%3Astarred" />;
}
