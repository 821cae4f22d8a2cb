/** What the composer's snackbar says. */
export type ComposeNotice =
  | {
      id: number;
      kind: "sending";
      /** Known once the server has taken the message into the outbox. */
      draftId: string | null;
      /** Scheduled send: when (ISO 8601); null for "now plus the undo window". */
      sendAt: string | null;
      undoable: boolean;
      undoSeconds: number;
      /** Undo was pressed before the server answered: it is taken back as soon as it does. */
      undoAsked: boolean;
      /** The server reports the message delivered. */
      sent: boolean;
    }
  | { id: number; kind: "info" | "error"; message: string }
  | { id: number; kind: "failed"; message: string; draftId: string };
