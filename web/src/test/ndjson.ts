/**
 * A newline-delimited JSON response the test writes into as it goes, as the server's
 * `POST /api/ai/drafts` streams: `send` a line (or a raw piece of one), then `end`.
 */
export function ndjsonStream() {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: () => new Response(body, { status: 200, headers: { "Content-Type": "application/x-ndjson" } }),
    send: (event: unknown) => controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`)),
    raw: (bytes: Uint8Array | string) => controller.enqueue(typeof bytes === "string" ? encoder.encode(bytes) : bytes),
    end: () => controller.close(),
  };
}
