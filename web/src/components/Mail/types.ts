import type { components } from "@/api/schema";

export type { Folder, MailAccount, ThreadActionName, ThreadLabel, ThreadSummary } from "@/api/mail";
export type Participant = components["schemas"]["Participant"];

/** An action the user can take on threads from the list, the thread toolbar or the keyboard. */
export type MailAction = "archive" | "trash" | "spam" | "move" | "read" | "unread" | "star" | "unstar";

/** Runs an action on threads; `folder` is the target of a move. */
export type RunAction = (action: MailAction, threadIds: readonly string[], folder?: string) => void;
