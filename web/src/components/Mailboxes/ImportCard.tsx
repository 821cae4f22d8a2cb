"use client";

import UploadFileOutlined from "@mui/icons-material/UploadFileOutlined";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import LinearProgress from "@mui/material/LinearProgress";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { useMutation } from "@tanstack/react-query";
import { useRef, useState, type ChangeEvent } from "react";

import { uploadMbox, useImportStatus, type UploadProgress } from "@/api/accounts";
import { SectionCard } from "@/components/Security/SectionCard";

import { importErrorMessage } from "./messages";

const number = new Intl.NumberFormat();

/** "12.3 MB" in the reader's locale. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits })} ${units[unit]}`;
}

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
}

function plural(n: number, word: string): string {
  return `${number.format(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** Import mail from an mbox file: the upload's progress, then the server's, then the count. */
export function ImportCard() {
  const input = useRef<HTMLInputElement>(null);
  const abort = useRef<AbortController | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<UploadProgress>({ loaded: 0, total: 0 });
  const upload = useMutation({
    mutationFn: (chosen: File) => {
      abort.current = new AbortController();
      return uploadMbox(chosen, { onProgress: setSent, signal: abort.current.signal });
    },
  });
  const status = useImportStatus(upload.data?.import_id);
  const record = status.data;
  const cancelled = upload.error instanceof DOMException && upload.error.name === "AbortError";
  const finished = record !== undefined && record.status !== "importing";
  const busy = upload.isPending || (upload.isSuccess && !finished && !status.isError);

  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    event.target.value = ""; // the same file can be chosen again after a failure
    if (!chosen) return;
    setFile(chosen);
    setSent({ loaded: 0, total: chosen.size });
    upload.mutate(chosen);
  };

  return (
    <SectionCard
      id="import"
      title="Import mail from a file"
      description="An mbox file, such as the one in a Google Takeout export or one saved from Thunderbird. The mail goes to a mailbox called “Imported mail”; importing the same file again adds nothing twice."
    >
      <input
        ref={input}
        type="file"
        accept=".mbox,application/mbox,text/plain"
        hidden
        onChange={choose}
        data-testid="mbox-input"
      />
      <Stack spacing={1.5}>
        {upload.isPending && file && (
          <Box>
            <Typography variant="body2" sx={{ mb: 0.5, overflowWrap: "anywhere" }} id="upload-label">
              Uploading {file.name} — {formatBytes(sent.loaded)} of {formatBytes(sent.total)}
            </Typography>
            <LinearProgress
              variant="determinate"
              value={percent(sent.loaded, sent.total)}
              aria-labelledby="upload-label"
            />
          </Box>
        )}
        {upload.isSuccess && record?.status === "importing" && (
          <Box>
            <Typography variant="body2" sx={{ mb: 0.5 }} id="import-label">
              Importing — {plural(record.messages, "message")} read so far
            </Typography>
            <LinearProgress
              variant="determinate"
              value={percent(record.bytes_read, record.bytes_total)}
              aria-labelledby="import-label"
            />
          </Box>
        )}
        {upload.isSuccess && record === undefined && !status.isError && (
          <Box>
            <Typography variant="body2" sx={{ mb: 0.5 }} id="import-wait-label">
              Uploaded. Starting the import…
            </Typography>
            <LinearProgress aria-labelledby="import-wait-label" />
          </Box>
        )}
        {record?.status === "done" && (
          <Alert severity="success" role="status">
            Imported {plural(record.imported, "message")}
            {record.skipped > 0 && ` (${number.format(record.skipped)} already there)`}.
            {record.errors > 0 &&
              ` ${plural(record.errors, "message")} couldn't be read and ${record.errors === 1 ? "was" : "were"} kept as they are.`}
          </Alert>
        )}
        {record?.status === "failed" && (
          <Alert severity="error" role="alert">
            {record.error ?? "The import stopped. Upload the file again to finish it."}
          </Alert>
        )}
        {status.isError && <Alert severity="error">{importErrorMessage(status.error)}</Alert>}
        {upload.isError && !cancelled && (
          <Alert severity="error" role="alert">
            {importErrorMessage(upload.error)}
          </Alert>
        )}
        <Stack direction="row" spacing={1}>
          {upload.isPending ? (
            <Button onClick={() => abort.current?.abort()}>Cancel upload</Button>
          ) : (
            <Button
              variant="outlined"
              startIcon={<UploadFileOutlined />}
              onClick={() => input.current?.click()}
              disabled={busy}
            >
              {finished || upload.isError ? "Import another file" : "Choose an mbox file"}
            </Button>
          )}
        </Stack>
      </Stack>
    </SectionCard>
  );
}
