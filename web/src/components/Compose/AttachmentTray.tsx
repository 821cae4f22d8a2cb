"use client";

import CloseIcon from "@mui/icons-material/Close";
import ErrorOutline from "@mui/icons-material/ErrorOutlineOutlined";
import InsertDriveFileOutlined from "@mui/icons-material/InsertDriveFileOutlined";
import Box from "@mui/material/Box";
import IconButton from "@mui/material/IconButton";
import LinearProgress from "@mui/material/LinearProgress";
import Tooltip from "@mui/material/Tooltip";
import Typography from "@mui/material/Typography";

import type { DraftAttachment } from "@/api/compose";

import type { Upload } from "./session";

const SIZE = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** "532 KB", "3.4 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${SIZE.format(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${SIZE.format(bytes / (1024 * 1024))} MB`;
  return `${SIZE.format(bytes / (1024 * 1024 * 1024))} GB`;
}

interface RowProps {
  name: string;
  size: number;
  /** 0–100 while uploading. */
  progress?: number;
  error?: string | null;
  removeLabel: string;
  onRemove: () => void;
}

function Row({ name, size, progress, error, removeLabel, onRemove }: RowProps) {
  const uploading = progress !== undefined && !error;
  return (
    <Box
      role="listitem"
      aria-label={name}
      sx={{
        display: "grid",
        gridTemplateColumns: "auto 1fr auto auto",
        alignItems: "center",
        columnGap: 1,
        px: 1,
        py: 0.5,
        border: 1,
        borderColor: error ? "error.main" : "divider",
        borderRadius: 1,
        bgcolor: "action.hover",
        minWidth: 0,
      }}
    >
      {error ? (
        <ErrorOutline fontSize="small" color="error" aria-hidden />
      ) : (
        <InsertDriveFileOutlined fontSize="small" sx={{ color: "text.secondary" }} aria-hidden />
      )}
      <Typography variant="body2" noWrap title={name} sx={{ fontWeight: 500, minWidth: 0 }}>
        {name}
      </Typography>
      <Typography variant="caption" sx={{ color: "text.secondary", fontVariantNumeric: "tabular-nums" }}>
        {uploading ? `${Math.round(progress)}% of ${formatSize(size)}` : formatSize(size)}
      </Typography>
      <Tooltip title={removeLabel}>
        <IconButton size="small" aria-label={`${removeLabel}: ${name}`} onClick={onRemove}>
          <CloseIcon fontSize="small" />
        </IconButton>
      </Tooltip>
      {uploading && (
        <LinearProgress
          variant="determinate"
          value={progress}
          aria-label={`Uploading ${name}`}
          sx={{ gridColumn: "1 / -1", mt: 0.5, height: 3, borderRadius: 1 }}
        />
      )}
      {error && (
        <Typography variant="caption" color="error" role="alert" sx={{ gridColumn: "1 / -1" }}>
          {error}
        </Typography>
      )}
    </Box>
  );
}

interface AttachmentTrayProps {
  attachments: readonly DraftAttachment[];
  uploads: readonly Upload[];
  onRemove: (position: number) => void;
  onCancelUpload: (id: string) => void;
}

/** The draft's files and the ones on their way, each with its size, progress and a remove. */
export function AttachmentTray({ attachments, uploads, onRemove, onCancelUpload }: AttachmentTrayProps) {
  const files = attachments.filter((attachment) => !attachment.is_inline);
  if (files.length === 0 && uploads.length === 0) return null;
  return (
    <Box
      role="list"
      aria-label="Attachments"
      sx={{ display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(220px, 1fr))", gap: 0.75, py: 1 }}
    >
      {files.map((attachment) => (
        <Row
          key={`file-${attachment.position}`}
          name={attachment.filename}
          size={attachment.size}
          removeLabel="Remove"
          onRemove={() => onRemove(attachment.position)}
        />
      ))}
      {uploads.map((upload) => (
        <Row
          key={upload.id}
          name={upload.name}
          size={upload.size}
          progress={upload.size > 0 ? Math.min(100, (upload.loaded / upload.size) * 100) : 0}
          error={upload.error}
          removeLabel={upload.error ? "Dismiss" : "Cancel upload"}
          onRemove={() => onCancelUpload(upload.id)}
        />
      ))}
    </Box>
  );
}
