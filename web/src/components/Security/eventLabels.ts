/** Wording for each security event type the server records. */

export type EventTone = "normal" | "warning";

interface EventLabel {
  label: string;
  tone: EventTone;
}

const LABELS: Record<string, EventLabel> = {
  login_succeeded: { label: "Signed in", tone: "normal" },
  login_failed: { label: "Failed sign-in attempt", tone: "warning" },
  account_locked: { label: "Account locked after failed attempts", tone: "warning" },
  logout: { label: "Signed out", tone: "normal" },
  session_revoked: { label: "Session signed out remotely", tone: "normal" },
  refresh_token_reuse: { label: "Reused session token — session ended", tone: "warning" },
  password_changed: { label: "Password changed", tone: "normal" },
  password_reset: { label: "Password reset by email", tone: "normal" },
  mfa_enabled: { label: "Two-factor authentication turned on", tone: "normal" },
  mfa_disabled: { label: "Two-factor authentication turned off", tone: "warning" },
  email_verified: { label: "Email address confirmed", tone: "normal" },
  new_device_sign_in: { label: "Sign-in from a new device", tone: "warning" },
  user_registered: { label: "Account created", tone: "normal" },
  user_updated_by_admin: { label: "Account changed by an administrator", tone: "warning" },
};

export function eventLabel(type: string): EventLabel {
  const words = type.replace(/_/g, " ");
  return LABELS[type] ?? { label: words.charAt(0).toUpperCase() + words.slice(1), tone: "normal" };
}
