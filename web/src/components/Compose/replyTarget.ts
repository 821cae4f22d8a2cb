import type { QueryClient } from "@tanstack/react-query";

import { mailKeys } from "@/api/keys";
import { prefetchThread, type Message, type ThreadDetail } from "@/api/thread";

/** Which message `r`, `a` and `f` answer, and whether "reply all" means more than "reply". */

/** True when answering everyone reaches someone besides the sender (and the user). */
export function canReplyAll(message: Pick<Message, "from" | "to" | "cc" | "reply_to">, own: ReadonlySet<string>): boolean {
  const others = new Set<string>();
  for (const address of [message.from, ...message.reply_to, ...message.to, ...message.cc]) {
    const key = address.address.toLowerCase();
    if (key && !own.has(key)) others.add(key);
  }
  return others.size > 1;
}

/** The newest message of a thread: from the cache, else fetched (it was probably prefetched). */
export async function newestMessageId(queryClient: QueryClient, threadId: string): Promise<number | null> {
  let thread = queryClient.getQueryData<ThreadDetail>(mailKeys.thread(threadId));
  if (thread === undefined) {
    await prefetchThread(queryClient, threadId);
    thread = queryClient.getQueryData<ThreadDetail>(mailKeys.thread(threadId));
  }
  // A draft saved into the thread is not something to answer.
  const messages = thread?.messages.filter((message) => !message.is_draft) ?? [];
  return messages.at(-1)?.id ?? null;
}
