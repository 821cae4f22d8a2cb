"use client";

import { useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from "react";

import { logout, logoutAll } from "@/api/auth";

import { refreshDelay, refreshSession } from "./refresh";
import { authStore, type AuthState, type TokenResponse } from "./store";

export interface AuthContextValue {
  state: AuthState;
  status: AuthState["status"];
  /** Keep the tokens of a successful login. */
  signIn(tokens: TokenResponse): void;
  /** End this session on the server and forget it here. */
  signOut(): Promise<void>;
  /** End every session of the account, this one included. */
  signOutEverywhere(): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

// Tabs tell each other about sign-in/out, so a sign-out empties every tab and a
// sign-in lets signed-out tabs pick the session up from the shared cookie.
const CHANNEL = "postwise-auth";
type AuthMessage = { type: "signed-in" } | { type: "signed-out" };

function broadcast(message: AuthMessage): void {
  if (typeof BroadcastChannel === "undefined") return;
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage(message);
  channel.close();
}

interface AuthProviderProps {
  children: ReactNode;
  /** Try the refresh cookie on mount (off in component tests). */
  restore?: boolean;
}

export function AuthProvider({ children, restore = true }: AuthProviderProps) {
  const state = useSyncExternalStore(
    authStore.subscribe,
    authStore.getState,
    authStore.getServerState,
  );
  const queryClient = useQueryClient();

  useEffect(() => {
    if (!restore || authStore.getState().status !== "restoring") return;
    // A network failure leaves no way to know; treat the tab as signed out.
    refreshSession().catch(() => authStore.setSignedOut("anonymous"));
  }, [restore]);

  const expiresAt = state.status === "signed-in" ? state.expiresAt : null;
  useEffect(() => {
    if (expiresAt === null) return;
    const timer = setTimeout(() => {
      // On failure the next 401 refreshes reactively (see middleware.ts).
      refreshSession().catch(() => undefined);
    }, refreshDelay(expiresAt));
    return () => clearTimeout(timer);
  }, [expiresAt]);

  // Forget the previous user's data when a session ends. Only then: clearing on
  // a signed-out page load would also cancel its in-flight public queries.
  const wasSignedIn = useRef(false);
  useEffect(() => {
    if (state.status === "signed-in") wasSignedIn.current = true;
    if (state.status === "signed-out" && wasSignedIn.current) {
      wasSignedIn.current = false;
      queryClient.clear();
    }
  }, [state.status, queryClient]);

  useEffect(() => {
    if (typeof BroadcastChannel === "undefined") return;
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event: MessageEvent<AuthMessage>) => {
      if (event.data.type === "signed-out") authStore.setSignedOut("explicit");
      if (event.data.type === "signed-in" && authStore.getState().status === "signed-out") {
        refreshSession().catch(() => undefined);
      }
    };
    return () => channel.close();
  }, []);

  const signIn = useCallback((tokens: TokenResponse) => {
    authStore.setTokens(tokens);
    broadcast({ type: "signed-in" });
  }, []);

  const endSession = useCallback(async (call: () => Promise<void>) => {
    try {
      await call();
    } catch {
      // Signing out here must work even when the server cannot be reached.
    }
    authStore.setSignedOut("explicit");
    broadcast({ type: "signed-out" });
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({
      state,
      status: state.status,
      signIn,
      signOut: () => endSession(logout),
      signOutEverywhere: () => endSession(logoutAll),
    }),
    [state, signIn, endSession],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (value === null) throw new Error("useAuth must be used inside <AuthProvider>");
  return value;
}
