import type { Account, AccountUpdate, DiscoveredServers, Security } from "@/api/accounts";

/** The server fields of the mailbox forms, as typed (ports stay text while being edited). */
export interface ServerForm {
  username: string;
  imapHost: string;
  imapPort: string;
  imapSecurity: Security;
  smtpHost: string;
  smtpPort: string;
  smtpSecurity: Security;
}

export type ServerField = keyof ServerForm;

export const EMPTY_SERVERS: ServerForm = {
  username: "",
  imapHost: "",
  imapPort: "993",
  imapSecurity: "ssl",
  smtpHost: "",
  smtpPort: "465",
  smtpSecurity: "ssl",
};

/** The port each protocol registers for a security choice (as the server assumes it). */
export const DEFAULT_PORTS: Record<"imap" | "smtp", Record<Security, number>> = {
  imap: { ssl: 993, starttls: 143, none: 143 },
  smtp: { ssl: 465, starttls: 587, none: 587 },
};

export const SECURITY_LABELS: Record<Security, string> = {
  ssl: "SSL/TLS",
  starttls: "STARTTLS",
  none: "None (unencrypted)",
};

export function fromDiscovery(found: DiscoveredServers): ServerForm {
  return {
    username: found.username ?? "",
    imapHost: found.imap.host,
    imapPort: String(found.imap.port),
    imapSecurity: found.imap.security,
    smtpHost: found.smtp.host,
    smtpPort: String(found.smtp.port),
    smtpSecurity: found.smtp.security,
  };
}

export function fromAccount(account: Account): ServerForm {
  return {
    username: account.username,
    imapHost: account.imap_host,
    imapPort: String(account.imap_port),
    imapSecurity: account.imap_security,
    smtpHost: account.smtp_host,
    smtpPort: String(account.smtp_port),
    smtpSecurity: account.smtp_security,
  };
}

/**
 * Apply one edit; changing the security moves a port that was that security's default to the
 * new one's default (SSL/TLS on 993 switched to STARTTLS means 143), as the server does.
 */
export function applyChange(form: ServerForm, field: ServerField, value: string): ServerForm {
  const next = { ...form, [field]: value };
  for (const server of ["imap", "smtp"] as const) {
    const securityField = `${server}Security` as const;
    const portField = `${server}Port` as const;
    if (field !== securityField) continue;
    const defaults = DEFAULT_PORTS[server];
    if (form[portField] === "" || Number(form[portField]) === defaults[form[securityField]]) {
      next[portField] = String(defaults[value as Security]);
    }
  }
  return next;
}

function port(text: string): number | undefined {
  const value = Number(text.trim());
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
}

/** Fields that cannot be sent as they are, with what to fix. */
export function serverFormErrors(form: ServerForm): Partial<Record<ServerField, string>> {
  const errors: Partial<Record<ServerField, string>> = {};
  if (!form.imapHost.trim()) errors.imapHost = "Enter the incoming mail server, e.g. imap.example.com";
  if (!form.smtpHost.trim()) errors.smtpHost = "Enter the outgoing mail server, e.g. smtp.example.com";
  if (port(form.imapPort) === undefined) errors.imapPort = "A port from 1 to 65535";
  if (port(form.smtpPort) === undefined) errors.smtpPort = "A port from 1 to 65535";
  return errors;
}

export type ServerBody = Required<
  Pick<
    AccountUpdate,
    "username" | "imap_host" | "imap_port" | "imap_security" | "smtp_host" | "smtp_port" | "smtp_security"
  >
>;

/** The server part of a create or update body. */
export function serverBody(form: ServerForm): ServerBody {
  return {
    username: form.username.trim() || null,
    imap_host: form.imapHost.trim(),
    imap_port: port(form.imapPort) ?? null,
    imap_security: form.imapSecurity,
    smtp_host: form.smtpHost.trim(),
    smtp_port: port(form.smtpPort) ?? null,
    smtp_security: form.smtpSecurity,
  };
}

/** Map the API's field names (validation errors, `field` of host_not_allowed) to the form's. */
export const API_FIELDS: Record<string, ServerField> = {
  username: "username",
  imap_host: "imapHost",
  imap_port: "imapPort",
  imap_security: "imapSecurity",
  smtp_host: "smtpHost",
  smtp_port: "smtpPort",
  smtp_security: "smtpSecurity",
};

/** "imap.gmail.com and smtp.gmail.com" for the collapsed summary. */
export function serverSummary(form: ServerForm): string {
  return `${form.imapHost}:${form.imapPort} and ${form.smtpHost}:${form.smtpPort}`;
}
