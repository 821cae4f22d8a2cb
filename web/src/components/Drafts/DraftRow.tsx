"use client";

import AttachFile from "@mui/icons-material/AttachFile";
import DeleteOutline from "@mui/icons-material/DeleteOutlined";
import { memo } from "react";

import type { DraftSummary } from "@/api/outbox";
import { formatFullDate, formatListDate } from "@/components/Mail/format";

import { formatRecipients } from "./rows";

interface DraftRowProps {
  draft: DraftSummary;
  height: number;
  focused: boolean;
  narrow: boolean;
  now: Date;
  onOpen: (id: string) => void;
  onFocus: (id: string) => void;
  onDelete: (draft: DraftSummary) => void;
}

/** One draft, laid out as a conversation row: recipients, subject and snippet, date. */
function DraftRowImpl({ draft, height, focused, narrow, now, onOpen, onFocus, onDelete }: DraftRowProps) {
  const recipients = formatRecipients(draft.to);
  const subject = draft.subject.trim() || "(no subject)";
  const who = <span className="pw-senders">{recipients ?? <span className="pw-none">Draft</span>}</span>;
  const text = (
    <>
      <span className="pw-subject">{subject}</span>
      {draft.snippet && <span className="pw-snippet"> — {draft.snippet}</span>}
    </>
  );
  const attachment = draft.has_attachments ? (
    <AttachFile fontSize="small" className="pw-attach" titleAccess="Has attachments" />
  ) : null;
  const time = (
    <time className="pw-date" dateTime={draft.updated_at} title={`Saved ${formatFullDate(draft.updated_at)}`}>
      {formatListDate(draft.updated_at, now)}
    </time>
  );
  return (
    <div
      role="listitem"
      className="pw-row"
      data-row-id={draft.id}
      data-focused={focused || undefined}
      style={{ height }}
    >
      <button type="button" className="pw-link" onClick={() => onOpen(draft.id)} onFocus={() => onFocus(draft.id)}>
        {narrow ? (
          <>
            <span className="pw-line">
              {who}
              {attachment}
              {time}
            </span>
            <span className="pw-line pw-second">{text}</span>
          </>
        ) : (
          <>
            {who}
            <span className="pw-text">{text}</span>
            {attachment}
            {time}
          </>
        )}
      </button>
      <span className="pw-hover-actions">
        <button
          type="button"
          className="pw-icon"
          aria-label={`Discard draft ${subject}`}
          title="Discard draft"
          onClick={() => onDelete(draft)}
        >
          <DeleteOutline fontSize="small" />
        </button>
      </span>
    </div>
  );
}

export const DraftRow = memo(DraftRowImpl);
