"use client";

import ErrorOutline from "@mui/icons-material/ErrorOutlineOutlined";
import ScheduleOutlined from "@mui/icons-material/ScheduleOutlined";
import Button from "@mui/material/Button";
import Tooltip from "@mui/material/Tooltip";
import type { ReactNode } from "react";

import type { OutboxEntry } from "@/api/outbox";
import { formatFullDate } from "@/components/Mail/format";
import { formatRecipients } from "@/components/Drafts/rows";

import type { OutboxStatus } from "./status";

interface OutboxRowProps {
  entry: OutboxEntry;
  status: OutboxStatus;
  height: number;
  focused: boolean;
  narrow: boolean;
  /** This entry's cancel is on its way (the button waits). */
  busy: boolean;
  /** Where the sent message can be read, if it can. */
  href?: string;
  onOpenSent: (entry: OutboxEntry) => void;
  onFocus: (id: string) => void;
  onCancel: (entry: OutboxEntry) => void;
}

/** When the entry's status refers to: the send time, the delivery, the last change. */
function statusTime(entry: OutboxEntry): string {
  return entry.status === "sent" ? (entry.sent_at ?? entry.updated_at) : (entry.send_at ?? entry.updated_at);
}

/** One message on its way out: who to, what about, and how far it has got. */
export function OutboxRow({ entry, status, height, focused, narrow, busy, href, onOpenSent, onFocus, onCancel }: OutboxRowProps) {
  const recipients = formatRecipients([...entry.to, ...entry.cc, ...entry.bcc]) ?? "(no recipients)";
  const subject = entry.subject.trim() || "(no subject)";
  const when = statusTime(entry);
  const iconSx = { verticalAlign: "-2px", mr: 0.5 } as const;
  const statusText = (
    <span
      className="pw-status"
      data-tone={status.tone}
      // Focusable only to show the server's reply to keyboard users.
      tabIndex={status.detail ? 0 : undefined}
    >
      {status.icon === "failed" && <ErrorOutline fontSize="inherit" aria-hidden sx={iconSx} />}
      {status.icon === "scheduled" && <ScheduleOutlined fontSize="inherit" aria-hidden sx={iconSx} />}
      <time dateTime={when} title={formatFullDate(when)}>
        {status.text}
      </time>
    </span>
  );
  // The server's own reply, when it says more than the summary: on hover and on focus.
  const withDetail = status.detail ? (
    <Tooltip title={`The mail server said: ${status.detail}`} describeChild>
      {statusText}
    </Tooltip>
  ) : (
    statusText
  );
  const main: ReactNode = narrow ? (
    <>
      <span className="pw-line">
        <span className="pw-senders">{recipients}</span>
      </span>
      <span className="pw-line pw-second">
        <span className="pw-subject">{subject}</span>
      </span>
      <span className="pw-line">{withDetail}</span>
    </>
  ) : (
    <>
      <span className="pw-senders">{recipients}</span>
      <span className="pw-text">
        <span className="pw-subject">{subject}</span>
      </span>
      {withDetail}
    </>
  );
  const label = status.action === "cancel" ? "Cancel" : status.action === "edit" ? "Edit" : null;
  return (
    <div
      role="listitem"
      className="pw-row"
      data-row-id={entry.id}
      data-focused={focused || undefined}
      style={{ height }}
    >
      {href ? (
        <a
          className="pw-link"
          href={href}
          onFocus={() => onFocus(entry.id)}
          onClick={(event) => {
            if (event.metaKey || event.ctrlKey || event.altKey || event.button !== 0) return;
            event.preventDefault();
            onOpenSent(entry);
          }}
        >
          {main}
        </a>
      ) : (
        // Not a control: the action button says what can be done with the entry.
        <div className="pw-link" tabIndex={-1} onFocus={() => onFocus(entry.id)}>
          {main}
        </div>
      )}
      {label && (
        <span className="pw-row-action">
          <Button
            size="small"
            variant={status.action === "edit" ? "contained" : "outlined"}
            color={status.action === "edit" ? "primary" : "inherit"}
            aria-label={`${label} ${subject}`}
            loading={busy}
            onClick={() => onCancel(entry)}
            onFocus={() => onFocus(entry.id)}
          >
            {label}
          </Button>
        </span>
      )}
    </div>
  );
}
