"use client";

import ArchiveOutlined from "@mui/icons-material/ArchiveOutlined";
import DeleteOutline from "@mui/icons-material/DeleteOutlined";
import DraftsOutlined from "@mui/icons-material/DraftsOutlined";
import MarkEmailUnreadOutlined from "@mui/icons-material/MarkEmailUnreadOutlined";
import { memo, useState, type FocusEvent, type MouseEvent } from "react";

import { categoryLabel } from "@/components/Assistant/categories";

import { formatFullDate, formatListDate, formatSenders, labelText } from "./format";
import { visuallyHidden } from "./listStyles";
import type { MailAction, ThreadSummary } from "./types";

// inline-block so that the words stay apart from the sender's name in the computed name.
const SCREEN_READER_ONLY = { ...visuallyHidden, display: "inline-block" } as const;

/** What a row asks of the list; one stable object for every row, so rows stay memoised. */
export interface RowHandlers {
  hrefOf: (id: string) => string;
  open: (id: string) => void;
  toggleSelect: (id: string, shift: boolean) => void;
  extendSelect: (id: string) => void;
  act: (action: MailAction, id: string) => void;
}

export interface RowContext {
  ownAddresses: ReadonlySet<string>;
  /** Folder id → short name, for label chips. */
  labelNames: ReadonlyMap<string, string>;
  /** The folder the list shows: its own label is not repeated on every row. */
  currentFolder: string;
  narrow: boolean;
  /** Re-render dates when the day turns; the value itself is "now". */
  now: Date;
}

interface ThreadRowProps {
  thread: ThreadSummary;
  index: number;
  /** Rows in the list, or -1 while more are still to load. */
  setSize: number;
  start: number;
  height: number;
  selected: boolean;
  focused: boolean;
  open: boolean;
  context: RowContext;
  handlers: RowHandlers;
}

const MAX_LABELS = 2;

// Every icon a row always shows is a plain SVG path (Material's LabelImportant, Reply, Star,
// StarBorder and AttachFile), not an icon component: a row is rendered and recycled on every
// scroll step, and an MUI icon costs a styled component each time.
const STAR_PATH = "M12 17.27 18.18 21l-1.64-7.03L22 9.24l-7.19-.61L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21z";
const STAR_BORDER_PATH =
  "m22 9.24-7.19-.62L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21 12 17.27 18.18 21l-1.63-7.03zM12 15.4l-3.76 2.27 1-4.28-3.32-2.88 4.38-.38L12 6.1l1.71 4.04 4.38.38-3.32 2.88 1 4.28z";
const ATTACH_PATH =
  "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6z";
const IMPORTANT_PATH =
  "M3.5 18.99l11 .01c.67 0 1.27-.33 1.63-.84L20.5 12l-4.37-6.16c-.36-.51-.96-.84-1.63-.84l-11 .01L8.34 12 3.5 18.99z";
const REPLY_PATH = "M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z";

function Mark({ className, title, path }: { className: string; title: string; path: string }) {
  return (
    <span className={className} title={title}>
      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden focusable="false">
        <path d={path} />
      </svg>
    </span>
  );
}

function Icon({ path, className, title }: { path: string; className?: string; title?: string }) {
  return (
    <svg className={className} viewBox="0 0 24 24" width="20" height="20" focusable="false" aria-hidden={title ? undefined : true} role={title ? "img" : undefined}>
      {title && <title>{title}</title>}
      <path d={path} />
    </svg>
  );
}

function ThreadRowImpl({ thread, index, setSize, start, height, selected, focused, open, context, handlers }: ThreadRowProps) {
  const { narrow } = context;
  // The archive, trash and read buttons exist only in the row under the pointer or holding the
  // focus (where CSS shows them): the other rows, recycled on every scroll step, skip their
  // nine elements each.
  const [pointerIn, setPointerIn] = useState(false);
  const [focusIn, setFocusIn] = useState(false);
  const onBlur = (event: FocusEvent<HTMLDivElement>) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setFocusIn(false);
  };
  const senders = formatSenders(thread.participants, context.ownAddresses, thread.message_count);
  const subject = thread.subject.trim() || "(no subject)";
  const date = formatListDate(thread.last_message_at, context.now);
  const labels = thread.labels.filter(
    (label) => label.role === null && label.folder_id !== context.currentFolder,
  );
  // The link is named by what it shows plus these words, not by an aria-label: a name that
  // leaves out visible text (the snippet, labels) fails WCAG 2.5.3 "label in name".
  const status = [
    thread.unread ? "unread" : null,
    thread.starred ? "starred" : null,
    thread.important ? "important" : null,
    thread.needs_reply ? "needs reply" : null,
  ]
    .filter(Boolean)
    .join(", ");
  const important = thread.important ? <Mark className="pw-imp" title="Important" path={IMPORTANT_PATH} /> : null;
  const replyMark = thread.needs_reply ? <Mark className="pw-needs" title="Needs a reply" path={REPLY_PATH} /> : null;
  const category = thread.category ? <span className="pw-cat">{categoryLabel(thread.category)}</span> : null;

  const onLinkClick = (event: MouseEvent<HTMLAnchorElement>) => {
    // New tab and new window keep the browser's own behaviour.
    if (event.metaKey || event.ctrlKey || event.altKey || event.button !== 0) return;
    event.preventDefault();
    if (event.shiftKey) handlers.extendSelect(thread.id);
    else handlers.open(thread.id);
  };
  const star = (
    <button
      type="button"
      className="pw-icon pw-star"
      aria-pressed={thread.starred}
      aria-label={thread.starred ? `Unstar ${subject}` : `Star ${subject}`}
      title={thread.starred ? "Starred" : "Not starred"}
      onClick={() => handlers.act(thread.starred ? "unstar" : "star", thread.id)}
    >
      {thread.starred ? <Icon path={STAR_PATH} className="pw-starred" /> : <Icon path={STAR_BORDER_PATH} />}
    </button>
  );
  const attachment = thread.has_attachments ? (
    <Icon path={ATTACH_PATH} className="pw-attach" title="Has attachments" />
  ) : null;
  const time = (
    <time className="pw-date" dateTime={thread.last_message_at} title={formatFullDate(thread.last_message_at)}>
      {date}
    </time>
  );

  return (
    <div
      role="listitem"
      className="pw-row"
      data-thread-id={thread.id}
      data-unread={thread.unread || undefined}
      data-selected={selected || undefined}
      data-focused={focused || undefined}
      data-open={open || undefined}
      aria-setsize={setSize}
      aria-posinset={index + 1}
      style={{ height, transform: `translateY(${start}px)` }}
      onPointerEnter={() => setPointerIn(true)}
      onPointerLeave={() => setPointerIn(false)}
      onFocus={() => setFocusIn(true)}
      onBlur={onBlur}
    >
      <input
        type="checkbox"
        className="pw-check"
        checked={selected}
        aria-label={`Select ${subject}`}
        onChange={() => undefined}
        onClick={(event) => handlers.toggleSelect(thread.id, event.shiftKey)}
      />
      {!narrow && star}
      <a className="pw-link" href={handlers.hrefOf(thread.id)} onClick={onLinkClick}>
        {status && <span style={SCREEN_READER_ONLY}>{status}</span>}
        {narrow ? (
          <>
            <span className="pw-line">
              <span className="pw-dot" aria-hidden />
              {important}
              <span className="pw-senders">{senders}</span>
              {category}
              {replyMark}
              {attachment}
              {time}
            </span>
            <span className="pw-line pw-second">
              <span className="pw-subject">{subject}</span>
              {thread.snippet && <span className="pw-snippet"> — {thread.snippet}</span>}
            </span>
          </>
        ) : (
          <>
            <span className="pw-dot" aria-hidden />
            {important}
            <span className="pw-senders">{senders}</span>
            <span className="pw-text">
              <span className="pw-subject">{subject}</span>
              {thread.snippet && <span className="pw-snippet"> — {thread.snippet}</span>}
            </span>
            {labels.slice(0, MAX_LABELS).map((label) => (
              <span key={label.folder_id} className="pw-label">
                {labelText(label, context.labelNames)}
              </span>
            ))}
            {category}
            {replyMark}
            {attachment}
            {time}
          </>
        )}
      </a>
      {narrow && star}
      {!narrow && (pointerIn || focusIn) && (
        <span className="pw-hover-actions">
          <button type="button" className="pw-icon" aria-label={`Archive ${subject}`} title="Archive" onClick={() => handlers.act("archive", thread.id)}>
            <ArchiveOutlined fontSize="small" />
          </button>
          <button type="button" className="pw-icon" aria-label={`Move ${subject} to Trash`} title="Move to Trash" onClick={() => handlers.act("trash", thread.id)}>
            <DeleteOutline fontSize="small" />
          </button>
          <button
            type="button"
            className="pw-icon"
            aria-label={thread.unread ? `Mark ${subject} as read` : `Mark ${subject} as unread`}
            title={thread.unread ? "Mark as read" : "Mark as unread"}
            onClick={() => handlers.act(thread.unread ? "read" : "unread", thread.id)}
          >
            {thread.unread ? <DraftsOutlined fontSize="small" /> : <MarkEmailUnreadOutlined fontSize="small" />}
          </button>
        </span>
      )}
    </div>
  );
}

/** One conversation in the list; plain elements styled by the list, so a row costs little. */
export const ThreadRow = memo(ThreadRowImpl);
