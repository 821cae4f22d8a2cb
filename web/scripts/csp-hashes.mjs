#!/usr/bin/env node
// After `next build`: collect the SHA-256 hashes of every inline <script> in
// the exported HTML and write out/csp.json, which the Python server merges
// into its Content-Security-Policy. A static export has no per-request nonce,
// so hashes are the only way to allow Next's inline bootstrap scripts
// (`self.__next_f.push(...)`) without 'unsafe-inline'.
//
// Output:
//   {
//     "script-src": ["'sha256-…'", …],      union over all pages
//     "style-src": ["'unsafe-inline'"],       see below
//     "pages": {"index.html": {"script-src": [...]}, …}   per page, for a
//                                             server that sends per-file CSPs
//   }
//
// style-src: Emotion (MUI) inserts <style> elements at runtime and the markup
// carries style="" attributes, so styles need 'unsafe-inline'. Browsers ignore
// 'unsafe-inline' as soon as a hash is present in the same directive, so no
// style hashes are emitted.
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.resolve(webDir, process.argv[2] ?? "out");

// Script types that browsers execute; anything else (JSON, ld+json) is data.
const EXECUTABLE_TYPES = new Set([
  "",
  "module",
  "text/javascript",
  "application/javascript",
  "text/ecmascript",
  "application/ecmascript",
]);

async function* htmlFiles(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(full);
    else if (entry.name.endsWith(".html")) yield full;
  }
}

function attribute(attrs, name) {
  const match = new RegExp(`\\s${name}(?:\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+)))?`, "i").exec(
    attrs,
  );
  if (!match) return undefined;
  return match[1] ?? match[2] ?? match[3] ?? "";
}

function sha256(text) {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

// Next escapes "</script" inside inline payloads, so a lazy match up to the
// first closing tag is exact for its output.
const SCRIPT_RE = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;

export function inlineScriptHashes(html) {
  const hashes = new Set();
  for (const [, attrs, body] of html.matchAll(SCRIPT_RE)) {
    if (attribute(attrs, "src") !== undefined) continue;
    const type = (attribute(attrs, "type") ?? "").trim().toLowerCase();
    if (!EXECUTABLE_TYPES.has(type)) continue;
    hashes.add(sha256(body));
  }
  return hashes;
}

const all = new Set();
const pages = {};
let files = 0;
try {
  for await (const file of htmlFiles(outDir)) {
    files += 1;
    const hashes = inlineScriptHashes(await readFile(file, "utf8"));
    hashes.forEach((hash) => all.add(hash));
    pages[path.relative(outDir, file).split(path.sep).join("/")] = {
      "script-src": [...hashes].sort(),
    };
  }
} catch (error) {
  console.error(`csp-hashes: cannot read ${outDir}: ${error.message}`);
  process.exit(2);
}
if (files === 0) {
  console.error(`csp-hashes: no .html files in ${outDir}; run next build first`);
  process.exit(2);
}

const sortedPages = Object.fromEntries(
  Object.entries(pages).sort(([a], [b]) => a.localeCompare(b)),
);
const csp = {
  "script-src": [...all].sort(),
  "style-src": ["'unsafe-inline'"],
  pages: sortedPages,
};
await writeFile(path.join(outDir, "csp.json"), `${JSON.stringify(csp, null, 2)}\n`);
console.log(
  `csp-hashes: ${all.size} inline script hashes from ${files} HTML files -> ${path.relative(webDir, path.join(outDir, "csp.json"))}`,
);
