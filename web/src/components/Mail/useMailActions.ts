"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";

import type { ThreadListParams } from "@/api/keys";
import { isMove, planUndo, undoInputs, useThreadAction, type ThreadActionInput } from "@/api/mail";

import { folderLabel } from "./folderTree";
import { conversations } from "./format";
import type { Folder, MailAction, RunAction } from "./types";

/** What the snackbar says after an action: done (with Undo when it can be undone) or failed. */
export interface Feedback {
  id: number;
  message: string;
  undo?: () => void;
  error?: boolean;
}

function doneMessage(action: MailAction, count: number, target?: Folder): string {
  const what = conversations(count);
  switch (action) {
    case "archive":
      return `Archived ${what}`;
    case "trash":
      return `Moved ${what} to Trash`;
    case "spam":
      return `Moved ${what} to Spam`;
    default:
      return `Moved ${what} to ${target ? folderLabel(target) : "another folder"}`;
  }
}

const VERBS: Record<string, string> = {
  archive: "archive",
  trash: "move to Trash",
  spam: "report as spam",
  move: "move",
  read: "mark as read",
  unread: "mark as unread",
  star: "star",
  unstar: "unstar",
  delete: "delete",
};

function failedMessage(input: ThreadActionInput, reason: string): string {
  if (input.restore) return `Couldn’t undo. ${reason}`;
  const verb = VERBS[input.action] ?? "change";
  const [first, ...rest] = verb.split(" ");
  const object = input.threadIds.length === 1 ? "the conversation" : conversations(input.threadIds.length);
  return `Couldn’t ${[first, object, ...rest].join(" ")}. ${reason}`;
}

/**
 * Run actions the way the list, the thread toolbar and the keyboard all need: the caches change
 * at once, moves offer Undo, failures are said in words. Never a spinner.
 */
export function useMailActions(view: ThreadListParams, folders: readonly Folder[] | undefined) {
  const queryClient = useQueryClient();
  const [feedback, setFeedback] = useState<Feedback | null>(null);
  const counter = useRef(0);
  const show = useCallback((next: Omit<Feedback, "id">) => {
    counter.current += 1;
    setFeedback({ ...next, id: counter.current });
  }, []);
  const { mutate } = useThreadAction({
    onError: (reason, input) => show({ message: failedMessage(input, reason), error: true }),
  });

  const run: RunAction = useCallback(
    (action, threadIds, folder) => {
      if (threadIds.length === 0) return;
      const input: ThreadActionInput = { action, threadIds: [...threadIds], folder };
      const plan = isMove(action) ? planUndo(queryClient, input, view) : null;
      mutate(input);
      if (!isMove(action)) return;
      const target = folder ? folders?.find((candidate) => candidate.id === folder) : undefined;
      show({
        message: doneMessage(action, threadIds.length, target),
        undo: plan
          ? () => {
              for (const step of undoInputs(plan)) mutate(step);
              show({ message: "Undone" });
            }
          : undefined,
      });
    },
    [queryClient, view, folders, mutate, show],
  );
  const dismiss = useCallback(() => setFeedback(null), []);
  return { run, feedback, dismiss };
}
