import { refreshSession } from "@/auth/refresh";
import { authStore } from "@/auth/store";

/**
 * The live event socket (`WS /api/ws`, docs/websocket.md), without React: it authenticates
 * with the in-memory access token, re-authenticates when the token is refreshed, notices a
 * dead connection by the missing heartbeats, and reconnects with backoff until the user signs
 * out. Events are hints; after every `ready` the caller re-reads what it shows.
 */

export type LiveStatus = "connecting" | "open" | "reconnecting" | "closed";

/** A server frame: `ready` and every event (`message.created`, `folder.counts`, …). */
export interface LiveEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface LiveSocketOptions {
  onEvent: (event: LiveEvent) => void;
  onStatus?: (status: LiveStatus) => void;
  /** Defaults to `ws(s)://<this origin>/api/ws`. */
  url?: string;
  /** For tests of the jitter. */
  random?: () => number;
}

/** Closes that say the client sent something wrong: retrying would only repeat it. */
const FINAL_CLOSE_CODES = new Set([4400, 1009, 4403]);
/** No valid authentication: refresh the token before the next attempt. */
const UNAUTHENTICATED = 4401;
const DEFAULT_HEARTBEAT_MS = 25_000;
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
// WebSocket.OPEN, spelled out so a stand-in class without the constants still works.
const OPEN = 1;
const SILENT_FRAMES = new Set(["heartbeat", "pong", "auth.ok"]);

/**
 * How long to wait before attempt `attempt` (0-based): 1 s doubling to 30 s, with "equal
 * jitter" (between half and all of it) so the tabs of many users do not come back in step
 * after a server restart.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The socket address for a page served from `origin` (`https:` pages get `wss:`). */
export function liveUrl(origin: string): string {
  const url = new URL("/api/ws", origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseFrame(raw: unknown): LiveEvent | undefined {
  if (typeof raw !== "string") return undefined;
  let frame: unknown;
  try {
    frame = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isRecord(frame) || typeof frame.type !== "string") return undefined;
  return { type: frame.type, data: isRecord(frame.data) ? frame.data : {} };
}

export class LiveSocket {
  readonly #options: LiveSocketOptions;
  #status: LiveStatus = "closed";
  #socket: WebSocket | null = null;
  /** The token the server has been given on the current socket. */
  #sentToken: string | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #watchdog: ReturnType<typeof setTimeout> | null = null;
  #heartbeatMs = DEFAULT_HEARTBEAT_MS;
  /** Failed attempts since the last `ready`: the backoff exponent. */
  #attempt = 0;
  /** Whether any attempt was made since start or sign-in: the next one is a "reconnect". */
  #tried = false;
  #needsRefresh = false;
  /** A token is being fetched for the next socket. */
  #preparing = false;
  /** Closed for a reason retrying cannot fix; only a new sign-in opens again. */
  #halted = false;
  /** Bumped on every teardown, so an attempt that was awaiting a refresh gives up. */
  #generation = 0;
  #unsubscribe: (() => void) | null = null;

  constructor(options: LiveSocketOptions) {
    this.#options = options;
  }

  get status(): LiveStatus {
    return this.#status;
  }

  /** Connect now (or once the tab is signed in) and keep connected until stop(). */
  start(): void {
    if (this.#unsubscribe !== null) return;
    this.#unsubscribe = authStore.subscribe(() => this.#onAuthChange());
    if (typeof window !== "undefined") window.addEventListener("online", this.#onOnline);
    const state = authStore.getState();
    if (state.status === "signed-in") void this.#connect();
    else if (state.status === "restoring") this.#setStatus("connecting");
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (typeof window !== "undefined") window.removeEventListener("online", this.#onOnline);
    this.#teardown();
    this.#setStatus("closed");
  }

  #onAuthChange(): void {
    const state = authStore.getState();
    if (state.status === "signed-out") {
      // A later sign-in (maybe as someone else) starts afresh.
      this.#teardown();
      this.#halted = false;
      this.#tried = false;
      this.#attempt = 0;
      this.#setStatus("closed");
      return;
    }
    if (state.status !== "signed-in") return;
    const socket = this.#socket;
    if (socket !== null) {
      // A refreshed token goes to the open socket, which would otherwise close at expiry.
      if (socket.readyState === OPEN && this.#sentToken !== null && this.#sentToken !== state.accessToken) {
        this.#sendAuth(socket, state.accessToken);
      }
      return;
    }
    if (!this.#preparing && this.#retryTimer === null && !this.#halted) void this.#connect();
  }

  readonly #onOnline = (): void => {
    // The network is back: skip the rest of the wait.
    if (this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    void this.#connect();
  };

  async #connect(): Promise<void> {
    const generation = this.#generation;
    this.#setStatus(this.#tried ? "reconnecting" : "connecting");
    this.#tried = true;
    let token = this.#needsRefresh ? null : authStore.accessToken();
    if (token === null) {
      this.#preparing = true;
      try {
        const outcome = await refreshSession();
        if (generation !== this.#generation) return;
        // Signed out: the store told #onAuthChange, which has closed everything.
        if (outcome === "signed-out") return;
      } catch {
        if (generation !== this.#generation) return;
        this.#scheduleRetry();
        return;
      } finally {
        if (generation === this.#generation) this.#preparing = false;
      }
      this.#needsRefresh = false;
      token = authStore.accessToken();
      if (token === null) {
        this.#scheduleRetry();
        return;
      }
    }
    this.#open(token);
  }

  #open(token: string): void {
    const socket = new WebSocket(this.#options.url ?? liveUrl(window.location.origin));
    this.#socket = socket;
    this.#sentToken = null;
    socket.onopen = () => this.#sendAuth(socket, authStore.accessToken() ?? token);
    socket.onmessage = (message: MessageEvent) => this.#onFrame(socket, message.data);
    socket.onclose = (event: CloseEvent) => this.#onClose(socket, event.code);
    // An error is always followed by a close, which decides what happens next.
    socket.onerror = () => undefined;
    // Also bounds a handshake that never completes.
    this.#armWatchdog();
  }

  #sendAuth(socket: WebSocket, token: string): void {
    this.#sentToken = token;
    try {
      socket.send(JSON.stringify({ type: "auth", token }));
    } catch {
      // The socket is closing; its close event schedules the next attempt.
    }
  }

  #onFrame(socket: WebSocket, raw: unknown): void {
    if (socket !== this.#socket) return;
    this.#armWatchdog();
    const event = parseFrame(raw);
    if (event === undefined) return;
    if (event.type === "ready") {
      const seconds = event.data.heartbeat_seconds;
      if (typeof seconds === "number" && seconds > 0) this.#heartbeatMs = seconds * 1000;
      this.#armWatchdog();
      this.#attempt = 0;
      this.#setStatus("open");
    } else if (SILENT_FRAMES.has(event.type)) {
      return;
    }
    this.#options.onEvent(event);
  }

  #onClose(socket: WebSocket, code: number): void {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#sentToken = null;
    this.#clearWatchdog();
    if (FINAL_CLOSE_CODES.has(code)) {
      this.#halted = true;
      this.#setStatus("closed");
      return;
    }
    if (code === UNAUTHENTICATED) this.#needsRefresh = true;
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    this.#setStatus("reconnecting");
    const delay = backoffDelay(this.#attempt, this.#options.random);
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, delay);
  }

  /** Two heartbeats without any frame: the connection is dead even if no close arrived. */
  #armWatchdog(): void {
    this.#clearWatchdog();
    this.#watchdog = setTimeout(() => {
      this.#watchdog = null;
      const socket = this.#socket;
      if (socket === null) return;
      this.#detach(socket);
      this.#scheduleRetry();
    }, 2 * this.#heartbeatMs);
  }

  #clearWatchdog(): void {
    if (this.#watchdog !== null) clearTimeout(this.#watchdog);
    this.#watchdog = null;
  }

  /** Forget a socket and close it without hearing from it again. */
  #detach(socket: WebSocket): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(1000);
    } catch {
      // already closed
    }
    if (this.#socket === socket) this.#socket = null;
    this.#sentToken = null;
  }

  #teardown(): void {
    this.#generation += 1;
    this.#preparing = false;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#clearWatchdog();
    if (this.#socket !== null) this.#detach(this.#socket);
  }

  #setStatus(status: LiveStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#options.onStatus?.(status);
  }
}
