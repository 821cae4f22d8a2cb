/**
 * The document an HTML mail is shown in. The server has already sanitised the HTML (no script,
 * no event handlers, no forms, remote images moved aside unless the user chose to see them);
 * this page is the second wall: its Content-Security-Policy forbids every script and every
 * load except inline styles and images from data:/blob: URLs (the inline images, fetched by the
 * app) — and remote images only once the user asked for them. The iframe's sandbox (see
 * HtmlFrame) stops script a third time, whatever the markup says.
 */

export interface SrcdocOptions {
  /** The user chose "Show images" for this message: remote images may load. */
  allowRemoteImages: boolean;
}

/** The policy inside the frame; it can only narrow what the app's own policy allows. */
export function frameCsp({ allowRemoteImages }: SrcdocOptions): string {
  const images = allowRemoteImages ? "data: blob: https: http:" : "data: blob:";
  return [
    "default-src 'none'",
    "script-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src ${images}`,
    "font-src data:",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

// Mail keeps its own colours on a light sheet: most HTML mail assumes white paper and sets
// dark text (or no colour at all), so following the app's dark theme would make it unreadable.
// Only pictures without a size of their own shrink to the pane: sized ones are often layout
// (spacer GIFs) that would grow out of shape; a layout wider than the pane is scaled instead
// (see HtmlFrame).
const BASE_STYLE = `
html { color-scheme: light; background: #fff; overflow-x: auto; overflow-y: hidden; }
body {
  margin: 0; color: #1f1f1f; overflow-wrap: break-word;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
img:not([width]):not([height]) { max-width: 100%; height: auto; }
pre { white-space: pre-wrap; }
blockquote { margin: 0 0 0 0.5em; padding-left: 0.75em; border-left: 2px solid #ccc; }
`;

function escapeAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A complete HTML document for an iframe's `srcdoc`, with `body` (sanitised HTML) as its body. */
export function buildSrcdoc(body: string, options: SrcdocOptions): string {
  // The policy comes first in <head>, so nothing in the document is parsed before it applies;
  // a <base> without href only sends every link to a new tab (out of the sandbox).
  return [
    "<!doctype html>",
    "<html><head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(frameCsp(options))}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta http-equiv="x-dns-prefetch-control" content="off">',
    '<meta name="color-scheme" content="light">',
    '<base target="_blank">',
    `<style>${BASE_STYLE}</style>`,
    "</head><body>",
    body,
    "</body></html>",
  ].join("");
}

// In the server's output `<` and `>` only ever delimit tags and every attribute is written
// name="value" (see src/postwise/mime/sanitize.py), so a tag is exactly `<[^>]*>` and text
// that merely mentions "cid:" is never touched.
const TAG_WITH_CID = /<[a-z][a-z0-9]*\b[^>]*cid:[^>]*>/gi;
// A cid: reference inside a tag: in src="…", background="…" or a style's url(…), which the
// serialiser writes with &quot; or &#39; quotes.
const CID_REFERENCE = /cid:((?:(?!&quot;|&#39;|&#x27;)[^"'\s()<>])+)/gi;

function decodeCid(raw: string): string {
  const unescaped = raw.replace(/&amp;/g, "&");
  try {
    return decodeURIComponent(unescaped).toLowerCase();
  } catch {
    return unescaped.toLowerCase();
  }
}

/** The Content-IDs (lower-cased, RFC 2392 `cid:` URLs decoded) the HTML shows as images. */
export function referencedContentIds(html: string): Set<string> {
  const ids = new Set<string>();
  for (const tag of html.match(TAG_WITH_CID) ?? []) {
    for (const match of tag.matchAll(CID_REFERENCE)) ids.add(decodeCid(match[1] ?? ""));
  }
  return ids;
}

/** Point each `cid:` reference with a known Content-ID (lower-cased) at its fetched copy. */
export function replaceContentIds(html: string, urls: ReadonlyMap<string, string>): string {
  if (urls.size === 0) return html;
  return html.replace(TAG_WITH_CID, (tag) =>
    tag.replace(CID_REFERENCE, (reference, raw: string) => urls.get(decodeCid(raw)) ?? reference),
  );
}
