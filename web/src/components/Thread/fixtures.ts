import type { Attachment, Message, ThreadDetail } from "@/api/thread";

/** Test data shaped like the server's answers (`GET /api/threads/{id}`). */

export const THREAD_ID = "7d4b9f8e-2c1a-4e5b-9a3d-6f0e1c2b3a4d";
export const ACCOUNT_ID = "0b6a1f3e-8d2c-4a9b-b7e1-5c3d2a1f0e9b";
const FOLDER_ID = "3e9c1a7b-5d4f-4b2a-8c6e-1f0a9b8c7d6e";

export function attachment(overrides: Partial<Attachment> = {}): Attachment {
  const position = overrides.position ?? 0;
  return {
    position,
    filename: "report.pdf",
    content_type: "application/pdf",
    size: 1_234_567,
    content_id: null,
    is_inline: false,
    url: `/api/messages/1/attachments/${position}`,
    ...overrides,
  };
}

export function message(overrides: Partial<Message> = {}): Message {
  const id = overrides.id ?? 1;
  return {
    id,
    thread_id: THREAD_ID,
    account_id: ACCOUNT_ID,
    folder_id: FOLDER_ID,
    message_id: `<m${id}@example.com>`,
    subject: "Quarterly report",
    from: { name: "Ana Silva", address: "ana@example.com" },
    to: [{ name: "Me Myself", address: "me@example.com" }],
    cc: [],
    bcc: [],
    reply_to: [],
    sent_at: "2024-03-05T10:15:00Z",
    received_at: "2024-03-05T10:15:05Z",
    is_read: true,
    is_starred: false,
    is_answered: false,
    is_draft: false,
    snippet: `Snippet of message ${id}`,
    body_text: `Body of message ${id}`,
    body_html: null,
    quote_offset: null,
    signature_offset: null,
    has_remote_images: false,
    has_tracking_pixel: false,
    show_images: false,
    list_unsubscribe: null,
    parse_error: null,
    attachments: [],
    ...overrides,
  };
}

export function thread(messages: Message[], overrides: Partial<ThreadDetail> = {}): ThreadDetail {
  return {
    id: THREAD_ID,
    account_id: ACCOUNT_ID,
    subject: "Quarterly report",
    message_count: messages.length,
    unread_count: messages.filter((m) => !m.is_read).length,
    last_message_at: messages.at(-1)?.received_at ?? "2024-03-05T10:15:05Z",
    labels: [{ folder_id: FOLDER_ID, name: "INBOX", role: "inbox" }],
    messages,
    ...overrides,
  };
}
