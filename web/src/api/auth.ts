import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

/** Account lifecycle: register, verify, sign in, passwords (`/api/auth/*`). */

export type TokenResponse = Schemas["TokenResponse"];
export type MfaRequired = Schemas["MfaRequired"];
export type LoginResult = TokenResponse | MfaRequired;
export type PasswordStrength = Schemas["StrengthResponse"];
export type RegisterRequest = Schemas["RegisterRequest"];

/** Cookie-authenticated calls must carry it (the server's CSRF check). */
export const CSRF_HEADERS = { "X-Postwise-CSRF": "1" } as const;

export function isMfaRequired(result: LoginResult): result is MfaRequired {
  return "mfa_token" in result;
}

export function useLogin() {
  return useMutation({
    mutationFn: async (body: Schemas["LoginRequest"]) =>
      unwrap(await api.POST("/api/auth/login", { body })),
  });
}

export function useLoginMfa() {
  return useMutation({
    mutationFn: async (body: Schemas["MfaLoginRequest"]) =>
      unwrap(await api.POST("/api/auth/login/mfa", { body })),
  });
}

export function useRegister() {
  return useMutation({
    mutationFn: async (body: RegisterRequest) =>
      unwrap(await api.POST("/api/auth/register", { body })),
  });
}

// Verification tokens are single-use: React's development double effects and
// remounts must not post the same token twice, so the call is shared per token.
const verifications = new Map<string, Promise<Schemas["StatusResponse"]>>();

export function verifyEmail(token: string): Promise<Schemas["StatusResponse"]> {
  let pending = verifications.get(token);
  if (pending === undefined) {
    pending = api
      .POST("/api/auth/verify-email", { body: { token } })
      .then((result) => unwrap(result));
    verifications.set(token, pending);
  }
  return pending;
}

export function useResendVerification() {
  return useMutation({
    mutationFn: async (email: string) =>
      unwrap(await api.POST("/api/auth/verify-email/resend", { body: { email } })),
  });
}

export function useForgotPassword() {
  return useMutation({
    mutationFn: async (email: string) =>
      unwrap(await api.POST("/api/auth/password/forgot", { body: { email } })),
  });
}

export function useResetPassword() {
  return useMutation({
    mutationFn: async (body: Schemas["ResetRequest"]) =>
      unwrap(await api.POST("/api/auth/password/reset", { body })),
  });
}

export function useChangePassword() {
  return useMutation({
    mutationFn: async (body: Schemas["ChangePasswordRequest"]) =>
      unwrap(await api.POST("/api/auth/password/change", { body })),
  });
}

/** Sign this session out on the server (bearer and refresh cookie). */
export async function logout(): Promise<void> {
  unwrap(await api.POST("/api/auth/logout", { headers: CSRF_HEADERS }));
}

/** Sign out every session of the account, this one included. */
export async function logoutAll(): Promise<void> {
  unwrap(await api.POST("/api/auth/logout-all", { headers: CSRF_HEADERS }));
}

export const STRENGTH_DEBOUNCE_MS = 250;

function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

/**
 * Live password strength from the server's zxcvbn (`/password/strength`),
 * asked at most every 250 ms while typing. The server also judges the password
 * on submit; this is feedback only. `email`/`name` let it penalise passwords
 * built from them.
 */
export function usePasswordStrength(
  password: string,
  context: { email?: string; name?: string } = {},
) {
  // Debounce one string: an object would be new on every render.
  const key = JSON.stringify([password, context.email ?? "", context.name ?? ""]);
  const [debouncedPassword, email, name] = JSON.parse(
    useDebounced(key, STRENGTH_DEBOUNCE_MS),
  ) as [string, string, string];
  const input = { password: debouncedPassword, email, name };
  const stale = input.password !== password;
  const query = useQuery({
    queryKey: ["password-strength", input.password, input.email, input.name],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.POST("/api/auth/password/strength", {
          body: {
            password: input.password,
            email: input.email || undefined,
            name: input.name || undefined,
          },
          signal,
        }),
      ),
    enabled: input.password.length > 0,
    placeholderData: keepPreviousData,
    // Passwords should not linger in the cache once the form is gone.
    gcTime: 0,
    staleTime: Infinity,
    retry: false,
  });
  return {
    strength: password.length > 0 ? query.data : undefined,
    checking: password.length > 0 && (stale || query.isFetching),
    unavailable: query.isError,
  };
}
