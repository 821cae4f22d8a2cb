"use client";

import AudioFileOutlined from "@mui/icons-material/AudioFileOutlined";
import DescriptionOutlined from "@mui/icons-material/DescriptionOutlined";
import FolderZipOutlined from "@mui/icons-material/FolderZipOutlined";
import ImageOutlined from "@mui/icons-material/ImageOutlined";
import InsertDriveFileOutlined from "@mui/icons-material/InsertDriveFileOutlined";
import PictureAsPdfOutlined from "@mui/icons-material/PictureAsPdfOutlined";
import TableChartOutlined from "@mui/icons-material/TableChartOutlined";
import VideoFileOutlined from "@mui/icons-material/VideoFileOutlined";
import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import CircularProgress from "@mui/material/CircularProgress";
import { useState, type ReactElement } from "react";

import { downloadAttachment, type Attachment } from "@/api/thread";

import { formatSize } from "./format";

const ARCHIVE_TYPES = /zip|compressed|x-tar|gzip|x-7z|x-rar|x-bzip|x-xz|java-archive/;
const ARCHIVE_NAMES = /\.(zip|tar|gz|tgz|7z|rar|bz2|xz)$/i;
const SHEET_TYPES = /spreadsheet|excel|csv/;
const DOCUMENT_TYPES = /^text\/|word|document|rtf|opendocument\.text/;

/** An icon for what the file is: PDF, picture, archive, spreadsheet, document, sound, video. */
export function attachmentIcon(attachment: Pick<Attachment, "content_type" | "filename">): ReactElement {
  const type = attachment.content_type.toLowerCase();
  const name = attachment.filename.toLowerCase();
  if (type === "application/pdf" || name.endsWith(".pdf")) return <PictureAsPdfOutlined data-icon="pdf" />;
  if (type.startsWith("image/")) return <ImageOutlined data-icon="image" />;
  if (ARCHIVE_TYPES.test(type) || ARCHIVE_NAMES.test(name)) return <FolderZipOutlined data-icon="archive" />;
  if (type.startsWith("audio/")) return <AudioFileOutlined data-icon="audio" />;
  if (type.startsWith("video/")) return <VideoFileOutlined data-icon="video" />;
  if (SHEET_TYPES.test(type)) return <TableChartOutlined data-icon="spreadsheet" />;
  if (DOCUMENT_TYPES.test(type)) return <DescriptionOutlined data-icon="document" />;
  return <InsertDriveFileOutlined data-icon="file" />;
}

interface AttachmentListProps {
  attachments: readonly Attachment[];
  /** Called with a sentence for the reader when a download fails. */
  onError: (message: string) => void;
}

/** The files of a message as chips (icon, name, size); a click saves the file. */
export function AttachmentList({ attachments, onError }: AttachmentListProps) {
  const [busy, setBusy] = useState<ReadonlySet<number>>(new Set());
  if (attachments.length === 0) return null;

  const download = async (attachment: Attachment) => {
    setBusy((current) => new Set(current).add(attachment.position));
    try {
      await downloadAttachment(attachment.url, attachment.filename);
    } catch {
      onError(`Couldn't download ${attachment.filename || "the attachment"}. Try again.`);
    } finally {
      setBusy((current) => {
        const next = new Set(current);
        next.delete(attachment.position);
        return next;
      });
    }
  };

  return (
    <Box
      component="ul"
      aria-label={attachments.length === 1 ? "1 attachment" : `${attachments.length} attachments`}
      sx={{ display: "flex", flexWrap: "wrap", gap: 1, listStyle: "none", p: 0, m: 0, mt: 2 }}
    >
      {attachments.map((attachment) => {
        const name = attachment.filename || "Unnamed file";
        const size = formatSize(attachment.size);
        const loading = busy.has(attachment.position);
        return (
          <Box component="li" key={attachment.position} sx={{ maxWidth: "100%", minWidth: 0 }}>
            <Chip
              variant="outlined"
              icon={loading ? <CircularProgress size={18} aria-hidden /> : attachmentIcon(attachment)}
              aria-label={`Download ${name}, ${size}`}
              title={name}
              disabled={loading}
              onClick={() => void download(attachment)}
              label={
                <>
                  <Box component="span" sx={{ overflow: "hidden", textOverflow: "ellipsis" }}>
                    {name}
                  </Box>
                  <Box component="span" sx={{ color: "text.secondary", ml: 1, flexShrink: 0 }}>
                    {size}
                  </Box>
                </>
              }
              sx={{
                height: 36,
                maxWidth: "100%",
                "& .MuiChip-label": { display: "flex", minWidth: 0, fontVariantNumeric: "tabular-nums" },
              }}
            />
          </Box>
        );
      })}
    </Box>
  );
}
