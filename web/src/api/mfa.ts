import { useMutation, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];
import { eventKeys } from "./events";
import { userKeys } from "./users";

export type TotpSetup = Schemas["TotpSetupResponse"];

/** Start TOTP enrolment: a new secret, its otpauth URI and a QR code (SVG). */
export function useTotpSetup() {
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/auth/mfa/totp/setup")),
  });
}

/**
 * Confirm enrolment with a code; answers the recovery codes, shown only once.
 * The profile is not refetched here, so the caller can keep showing the codes.
 */
export function useTotpEnable() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (code: string) =>
      unwrap(await api.POST("/api/auth/mfa/totp/enable", { body: { code } })).recovery_codes,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: eventKeys.all }),
  });
}

export function useTotpDisable() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["DisableMfaRequest"]) =>
      unwrap(await api.POST("/api/auth/mfa/totp/disable", { body })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: userKeys.me });
      await queryClient.invalidateQueries({ queryKey: eventKeys.all });
    },
  });
}
