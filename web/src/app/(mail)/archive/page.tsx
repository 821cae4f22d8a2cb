import { FolderRedirect } from "@/components/Mail/FolderRedirect";

export default function LegacyFolderPage() {
  return <FolderRedirect href="/?folder=archive" />;
}
