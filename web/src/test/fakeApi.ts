import { vi } from "vitest";

/** A recorded request: method, path and parsed JSON body (if any). */
export interface Call {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

type Handler = (call: Call) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function problem(status: number, code: string, extra: Record<string, unknown> = {}): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: code, status, code, ...extra }),
    { status, headers: { "Content-Type": "application/problem+json" } },
  );
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/**
 * A fetch stub routing "METHOD /path" to handlers (a handler may be a list,
 * answered in turn, the last one repeating). Unknown routes answer 404.
 * Install it with vi.stubGlobal("fetch", api.fetch); `calls` records everything.
 */
export function fakeApi(routes: Record<string, Handler | Handler[]>) {
  const calls: Call[] = [];
  const served = new Map<string, number>();
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request
        ? input
        : new Request(new URL(String(input), "http://localhost"), init);
    const url = new URL(request.url);
    const text = await request.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const call = { method: request.method, path: url.pathname, headers: request.headers, body };
    calls.push(call);
    const key = `${call.method} ${call.path}`;
    const route = routes[key];
    if (route === undefined) return problem(404, "not_found");
    const handlers = Array.isArray(route) ? route : [route];
    const index = served.get(key) ?? 0;
    served.set(key, index + 1);
    const handler = handlers[Math.min(index, handlers.length - 1)];
    return handler ? handler(call) : problem(404, "not_found");
  });
  const callsTo = (method: string, path: string) =>
    calls.filter((call) => call.method === method && call.path === path);
  return { fetch, calls, callsTo };
}

export const TOKENS = { access_token: "access-1", token_type: "bearer", expires_in: 900 } as const;
