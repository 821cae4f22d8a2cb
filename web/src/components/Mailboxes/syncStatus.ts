import type { Account } from "@/api/accounts";
import { formatRelative } from "@/components/Security/format";

import { syncErrorMessage } from "./messages";

export type SyncTone = "ok" | "busy" | "error";

export interface SyncStatus {
  tone: SyncTone;
  /** One short line: "Up to date · synced 5 minutes ago". */
  label: string;
  /** What went wrong and what to do, for an error. */
  detail?: string;
}

const count = new Intl.NumberFormat();

function messages(n: number): string {
  return `${count.format(n)} message${n === 1 ? "" : "s"}`;
}

/** How a mailbox's sync is going, in words; `now` for tests. */
export function describeSync(account: Account, now: number = Date.now()): SyncStatus {
  const synced = account.last_synced_at
    ? `synced ${formatRelative(account.last_synced_at, now)}`
    : undefined;
  if (account.kind === "local") {
    const what = account.is_demo ? "Demo mail" : "Imported mail";
    return { tone: "ok", label: `${what} · ${messages(account.counts.messages)}` };
  }
  switch (account.sync_state) {
    case "error":
      return {
        tone: "error",
        label: synced ? `Sync failed · last ${synced}` : "Couldn't sync yet",
        detail: syncErrorMessage(account.last_error_code, account),
      };
    case "initial":
      return {
        tone: "busy",
        label:
          account.counts.messages > 0
            ? `First sync · ${messages(account.counts.messages)} so far`
            : "First sync · starting",
      };
    case "syncing":
      return { tone: "busy", label: synced ? `Syncing · last ${synced}` : "Syncing" };
    default:
      return { tone: "ok", label: synced ? `Up to date · ${synced}` : "Up to date" };
  }
}
