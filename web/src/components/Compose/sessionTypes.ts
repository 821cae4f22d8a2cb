import type { Draft, Recipient } from "@/api/compose";

import type { ComposeErrors } from "./problems";
import type { RecipientChip } from "./recipients";

/** The shapes of a compose session (session.ts). */

export type ComposeIntent =
  | { kind: "new"; to?: Recipient[]; subject?: string }
  | { kind: "reply"; messageId: number; mode: "reply" | "reply_all" }
  | { kind: "forward"; messageId: number }
  | { kind: "draft"; draftId: string; draft?: Draft };

export type SaveStatus = "idle" | "saving" | "saved" | "retrying" | "failed";

export interface Upload {
  id: string;
  name: string;
  size: number;
  loaded: number;
  error: string | null;
}

export interface Body {
  html: string | null;
  text: string;
  /** Changes when the body was replaced from outside the editor (a newer save won). */
  revision: number;
}

export interface SessionState {
  phase: "creating" | "ready" | "failed" | "locked";
  draft: Draft | null;
  from: string;
  to: RecipientChip[];
  cc: RecipientChip[];
  bcc: RecipientChip[];
  subject: string;
  plain: boolean;
  body: Body;
  save: SaveStatus;
  /** Something the user should know about this draft (a newer version was loaded, …). */
  notice: string | null;
  /** Why the draft could not be created or opened. */
  loadError: string | null;
  errors: ComposeErrors;
  uploads: Upload[];
  /** The user changed something: an untouched draft is discarded on close. */
  touched: boolean;
}


export interface BodySource {
  (): { html: string | null; text: string };
}

/** What the rest of the app hears from a session (the Drafts list keeps up through these). */
export interface SessionListener {
  /** The server answered with this version of the draft (created, saved, reloaded). */
  onSaved?: (draft: Draft) => void;
  /** The draft is gone from the server. */
  onDeleted?: (id: string) => void;
}

