import { ApiError } from "@/api/client";
import { errorMessage, problemCode } from "@/api/problem";

/**
 * Every failure the accounts API can answer, in the user's words: what went wrong, where, and
 * what to do about it. The codes are the server's (accounts/connection.py, accounts/service.py,
 * imports/router.py, sync/mailbox.py); the host comes from the form, so the sentence names the
 * server the user typed or was shown.
 */

/** The servers the user is connecting to, to name the one that failed. */
export interface ServerNames {
  imapHost?: string;
  imapPort?: number;
  smtpHost?: string;
  smtpPort?: number;
  /** The email address, whose domain stands in when no host is known yet. */
  email?: string;
  /** The provider's own advice for a refused password ("Gmail accepts an app password…"). */
  signInHint?: string;
}

/** Which server a problem is about (`server` in the problem body). */
function problemServer(error: unknown): "imap" | "smtp" | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const problem = error.problem;
  if (typeof problem !== "object" || problem === null || !("server" in problem)) return undefined;
  return problem.server === "imap" || problem.server === "smtp" ? problem.server : undefined;
}

function domainOf(email: string | undefined): string | undefined {
  const domain = email?.split("@")[1]?.trim();
  return domain ? domain : undefined;
}

function hostOf(names: ServerNames, server: "imap" | "smtp" | undefined): string {
  const host = server === "smtp" ? names.smtpHost : names.imapHost;
  return host || domainOf(names.email) || "the mail server";
}

const KIND = { imap: "incoming mail (IMAP)", smtp: "outgoing mail (SMTP)" } as const;

/** A connection problem as a sentence, or undefined when `code` is not one. */
export function connectionProblemMessage(
  code: string | undefined,
  server: "imap" | "smtp" | undefined,
  names: ServerNames,
): string | undefined {
  const host = hostOf(names, server);
  const kind = server ? KIND[server] : "mail";
  switch (code) {
    case "auth_failed": {
      const advice =
        names.signInHint ||
        "Check the password. Many providers need an app password for mail apps rather than your usual one.";
      return `${host} refused the user name or password. ${advice}`;
    }
    case "host_unreachable":
      return `Couldn't reach ${host} — check the server name and port.`;
    case "timeout":
      return `${host} didn't answer in time — check the server name and port, or try again in a moment.`;
    case "tls_error":
      return `Couldn't make a secure connection to ${host} — check the security setting (SSL/TLS or STARTTLS) and the port. If the server uses its own certificate, ask your administrator to trust it.`;
    case "host_not_allowed":
      return `${host} isn't allowed on this Postwise server — ask your administrator.`;
    case "not_imap":
      return `${host} answered, but not as an incoming mail (IMAP) server — check the port (usually 993).`;
    case "not_smtp":
      return `${host} answered, but not as an outgoing mail (SMTP) server — check the port (usually 465 or 587).`;
    case "connection_lost":
      return `The connection to ${host} broke off. Postwise tries again on its own.`;
    case "database_unavailable":
    case "internal_error":
      return `Postwise had a problem syncing this mailbox's ${kind}. It tries again on its own.`;
    default:
      return undefined;
  }
}

/** Adding or changing a mailbox failed: the sentence to show above the form. */
export function mailboxErrorMessage(error: unknown, names: ServerNames): string {
  const code = problemCode(error);
  const connection = connectionProblemMessage(code, problemServer(error), names);
  if (connection !== undefined) return connection;
  const domain = domainOf(names.email) ?? "this address";
  return errorMessage(error, {
    discovery_failed: `Couldn't find the mail servers for ${domain} — enter them under Server settings.`,
    account_exists: "This mailbox is already in Postwise.",
    password_required: "Enter the mailbox password again to save this change.",
    not_syncable: "This mailbox holds imported or demo mail: it has no server to change.",
    validation_error: "Some fields need a second look.",
    not_found: "This mailbox was removed in the meantime.",
  });
}

/** Which server field a problem points at, to mark it in the form. */
export function problemField(error: unknown): "imap_host" | "smtp_host" | undefined {
  const code = problemCode(error);
  const server = problemServer(error);
  if (server === undefined) return undefined;
  if (code === "auth_failed") return undefined;
  return server === "imap" ? "imap_host" : "smtp_host";
}

/** The sync engine's last error for a mailbox, in words, with what to do. */
export function syncErrorMessage(
  code: string | null | undefined,
  account: { imap_host: string; email: string },
): string {
  return (
    connectionProblemMessage(code ?? undefined, "imap", {
      imapHost: account.imap_host,
      email: account.email,
    }) ?? "Syncing this mailbox failed. Postwise tries again on its own."
  );
}

/** An upload or import problem, in words. */
export function importErrorMessage(error: unknown): string {
  return errorMessage(error, {
    empty_upload: "That file is empty.",
    not_mbox:
      "That file isn't an mbox file. Choose a .mbox file, such as the one in a Google Takeout export.",
    import_running: "An import is still running. Wait for it to finish, then try again.",
    account_not_local: "That address belongs to a connected mailbox; imports go to a separate one.",
    payload_too_large:
      "That file is larger than this Postwise server accepts. Ask your administrator to import it on the server.",
    unsupported_media_type: "That file can't be imported. Choose a .mbox file.",
  });
}
