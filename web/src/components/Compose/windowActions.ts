import { cancelSend, fetchDraft } from "@/api/compose";
import { composeKeys } from "@/api/keys";
import { errorMessage } from "@/api/problem";

import type { ComposeInternals } from "./ComposeProvider";
import type { ComposeNotice } from "./notice";
import { COMPOSE_MESSAGES } from "./problems";

/**
 * What the windows and the snackbar do: close (saving first), discard, send with undo. Kept out
 * of ComposeProvider so the inbox's first load carries only the provider's small state; this
 * module arrives with the first compose window (or when the browser is idle).
 */

function say(ctx: ComposeInternals, kind: "info" | "error", message: string): void {
  ctx.setNotice({ id: ctx.nextNoticeId(), kind, message });
}

/** Out of sight at once; gone once its last words are on the server. */
export async function closeWindow(ctx: ComposeInternals, key: string): Promise<void> {
  const session = ctx.sessions.get(key);
  ctx.giveFocusBack(key);
  ctx.update(key, { hidden: true });
  if (session === undefined) return ctx.remove(key);
  if (await session.close()) return ctx.remove(key);
  ctx.update(key, { hidden: false });
  say(ctx, "info", "The draft couldn't be saved, so its window stays open.");
}

export async function discardWindow(ctx: ComposeInternals, key: string): Promise<void> {
  const session = ctx.sessions.get(key);
  ctx.giveFocusBack(key);
  ctx.update(key, { hidden: true });
  await session?.discard();
  ctx.remove(key);
  say(ctx, "info", "Draft discarded.");
}

/** Take a send back: the draft returns to a compose window. */
export async function undoSend(ctx: ComposeInternals, draftId: string): Promise<void> {
  say(ctx, "info", "Undoing…");
  try {
    const draft = await cancelSend(draftId);
    ctx.queryClient.setQueryData(composeKeys.draft(draft.id), draft);
    void ctx.queryClient.invalidateQueries({ queryKey: composeKeys.outbox });
    void ctx.queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
    ctx.compose.openDraft(draft.id, draft);
    say(ctx, "info", "Sending undone.");
  } catch (error) {
    say(ctx, "error", errorMessage(error, COMPOSE_MESSAGES));
  }
}

/**
 * Send: the window goes at once and the snackbar says "Sending…" with Undo; a refusal brings
 * the window back with the problem next to its field.
 */
export async function sendWindow(ctx: ComposeInternals, key: string, sendAt: string | null): Promise<void> {
  const session = ctx.sessions.get(key);
  if (session === undefined || !session.checkSendable()) return;
  const id = ctx.nextNoticeId();
  const undoable = sendAt !== null || ctx.undoSeconds > 0;
  ctx.giveFocusBack(key);
  ctx.update(key, { hidden: true });
  ctx.setNotice({ id, kind: "sending", draftId: null, sendAt, undoable, undoSeconds: ctx.undoSeconds, undoAsked: false, sent: false });
  try {
    const entry = await session.send(sendAt);
    ctx.remove(key);
    void ctx.queryClient.invalidateQueries({ queryKey: composeKeys.outbox });
    void ctx.queryClient.invalidateQueries({ queryKey: composeKeys.drafts });
    // Undo pressed while the send was still on its way: take it back now.
    if (ctx.undoAsked.delete(id)) return undoSend(ctx, entry.id);
    ctx.setNotice((current) =>
      current?.id === id && current.kind === "sending"
        ? { ...current, draftId: entry.id, sendAt: entry.scheduled ? entry.send_at : sendAt }
        : current,
    );
  } catch {
    ctx.undoAsked.delete(id);
    ctx.setNotice((current) => (current?.id === id ? null : current));
    ctx.focus(key);
  }
}

/** The snackbar's Undo. */
export function undoNotice(ctx: ComposeInternals, notice: ComposeNotice): void {
  if (notice.kind !== "sending") return;
  if (notice.draftId === null) {
    ctx.undoAsked.add(notice.id);
    ctx.setNotice({ ...notice, undoAsked: true });
    return;
  }
  void undoSend(ctx, notice.draftId);
}

/** "Message not sent: <the server's reply>", with Open. */
export async function reportFailure(ctx: ComposeInternals, draftId: string, reason: string | undefined): Promise<void> {
  const why =
    reason ??
    (await fetchDraft(draftId)
      .then((draft) => draft.last_error ?? undefined)
      .catch(() => undefined));
  ctx.setNotice({
    id: ctx.nextNoticeId(),
    kind: "failed",
    message: why ? `Message not sent: ${why}` : "Message not sent.",
    draftId,
  });
}
