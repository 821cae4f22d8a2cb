"use client";

import { useCallback, useEffect, useRef } from "react";

import { useAiDraft } from "@/api/ai";
import type { Draft } from "@/api/compose";

import type { AiReplyChoice } from "./AiReply";

/**
 * An assistant's reply to a thread, from the choice of tone to the draft in the composer:
 * `write` starts it, the panel shows it arriving, and `onDraft` gets the saved draft (to open
 * it) when it is whole, or when the user opens what a failed run wrote.
 */
export function useAiReply(threadId: string, onDraft: (draft: Draft) => void) {
  const handOver = useRef(onDraft);
  useEffect(() => {
    handOver.current = onDraft;
  });
  const reset = useRef<() => void>(() => undefined);
  const ai = useAiDraft({
    onDone: (draft) => {
      handOver.current(draft);
      reset.current();
    },
  });
  useEffect(() => {
    reset.current = ai.reset;
  }, [ai.reset]);
  const last = useRef<AiReplyChoice | null>(null);
  const { start, stop } = ai;

  const write = useCallback(
    (choice: AiReplyChoice) => {
      last.current = choice;
      start({ threadId, tone: choice.tone, instruction: choice.instruction });
    },
    [start, threadId],
  );
  const retry = useCallback(() => {
    if (last.current !== null) write(last.current);
  }, [write]);
  const openLeftover = useCallback(() => {
    const draft = ai.state.draft;
    if (draft === null) return;
    ai.reset();
    handOver.current(draft);
  }, [ai]);

  return { state: ai.state, write, retry, stop, openLeftover };
}
