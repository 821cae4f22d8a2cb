import { useEffect, useMemo, useState } from "react";

import { fetchAttachment, type Attachment } from "@/api/thread";

import { referencedContentIds, replaceContentIds } from "./srcdoc";

/**
 * Pictures inside HTML mail (`<img src="cid:…">`) are attachments of the message. The frame
 * cannot fetch them itself (its policy forbids any load, and the download needs the token),
 * so the app fetches them and rewrites the references to blob: URLs before building the page.
 */

// Blob URLs of the images shown lately, so reopening a message does not fetch them again.
// Bounded: the oldest is released when more than this many are held.
const CACHE_LIMIT = 100;
const cache = new Map<string, Promise<string>>();

function blobUrl(url: string): Promise<string> {
  const cached = cache.get(url);
  if (cached !== undefined) {
    cache.delete(url);
    cache.set(url, cached); // most recently used last
    return cached;
  }
  const created = fetchAttachment(url).then((blob) => URL.createObjectURL(blob));
  // A failed fetch is not remembered: the next opening tries again.
  created.catch(() => cache.delete(url));
  cache.set(url, created);
  while (cache.size > CACHE_LIMIT) {
    const [oldest, promise] = cache.entries().next().value as [string, Promise<string>];
    cache.delete(oldest);
    void promise.then((href) => URL.revokeObjectURL(href), () => undefined);
  }
  return created;
}

/** Forget every cached image (for tests). */
export function clearInlineImageCache(): void {
  cache.clear();
}

interface Resolved {
  key: string;
  html: string;
}

/**
 * The HTML with its inline images pointing at fetched copies; null while they load. An image
 * that fails to load is left as it was (the frame shows it as missing) rather than holding
 * the whole message back.
 */
export function useInlineImages(html: string, attachments: readonly Attachment[]): string | null {
  const wanted = useMemo(() => {
    const ids = html.includes("cid:") ? referencedContentIds(html) : new Set<string>();
    return attachments.filter(
      (attachment) =>
        attachment.content_id !== null &&
        ids.has(attachment.content_id.toLowerCase()) &&
        attachment.content_type.toLowerCase().startsWith("image/"),
    );
  }, [html, attachments]);
  const key = `${wanted.map((attachment) => attachment.url).join("\n")}\n${html}`;
  const [resolved, setResolved] = useState<Resolved | null>(null);

  useEffect(() => {
    if (wanted.length === 0) return;
    let live = true;
    void Promise.all(
      wanted.map(async (attachment): Promise<[string, string] | null> => {
        try {
          return [(attachment.content_id ?? "").toLowerCase(), await blobUrl(attachment.url)];
        } catch {
          return null;
        }
      }),
    ).then((entries) => {
      if (!live) return;
      const urls = new Map(entries.filter((entry): entry is [string, string] => entry !== null));
      setResolved({ key, html: replaceContentIds(html, urls) });
    });
    return () => {
      live = false;
    };
  }, [key, wanted, html]);

  if (wanted.length === 0) return html;
  return resolved?.key === key ? resolved.html : null;
}
