/** What the compose form needs from either body editor (formatted or plain text). */
export interface BodyEditorHandle {
  read(): { html: string | null; text: string };
  /** False when the editor is gone (replaced, in development's double mount). */
  focus(where?: "start" | "end"): boolean;
}

export interface BodyEditorProps {
  /** The body to start from: HTML for the formatted editor, text for the plain one. */
  initialHtml: string | null;
  initialText: string;
  label: string;
  /** The user changed the body (read it with the handle when saving). */
  onChange: () => void;
  /** The editor is ready (or gone, with null). */
  onReady: (handle: BodyEditorHandle | null) => void;
  /** Take the focus once ready, the cursor at the start (a reply: above the quote). */
  autoFocus: boolean;
  /** Files dropped or pasted into the body become attachments. */
  onFiles?: (files: File[]) => void;
  minHeight?: number;
  /** Where the formatting toolbar goes (above the window's actions); inline when absent. */
  toolbarSlot?: HTMLElement | null;
}
