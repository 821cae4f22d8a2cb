"use client";

import Box from "@mui/material/Box";
import Skeleton from "@mui/material/Skeleton";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { Attachment } from "@/api/thread";

import { useInlineImages } from "./inlineImages";
import { buildSrcdoc } from "./srcdoc";

/**
 * Never "allow-scripts": together with allow-same-origin a mail could remove its own sandbox.
 * allow-same-origin (with no script in the frame it grants the mail nothing) lets the app read
 * the document's height; allow-popups lets links open, in a tab free of this sandbox.
 */
export const FRAME_SANDBOX = "allow-same-origin allow-popups allow-popups-to-escape-sandbox";

// A mail sized in viewport units (min-height: 120vh) would grow with every measurement;
// nothing legitimate is taller than this.
const MAX_HEIGHT = 30_000;
const INITIAL_HEIGHT = 120;

export interface HtmlFrameProps {
  /** Sanitised HTML from the server (MessageOut.body_html). */
  html: string;
  /** The message's attachments, for pictures referenced as `cid:` inside the HTML. */
  attachments?: readonly Attachment[];
  /** The user chose to see remote images for this message. */
  allowRemoteImages: boolean;
  /** What the frame holds, for screen readers ("Message from Ana Silva"). */
  title: string;
}

// Below this, text is too small to read: a layout that would need more scrolls sideways.
const MIN_SCALE = 0.5;

/**
 * Fit a layout wider than the pane (a 600 px newsletter on a phone) by scaling it down, as
 * phone mail apps do, then measure its height. The zoom is undone first, so the natural
 * width is measured each time and repeated measurements settle rather than compound.
 */
function fitAndMeasure(frame: HTMLIFrameElement): number | null {
  const doc = frame.contentDocument;
  if (doc === null || doc.body === null) return null;
  const root = doc.documentElement;
  root.style.zoom = "";
  const ratio = root.clientWidth > 0 ? root.clientWidth / root.scrollWidth : 1;
  if (ratio < 1) root.style.zoom = String(Math.max(MIN_SCALE, Math.floor(ratio * 100) / 100));
  let height = root.getBoundingClientRect().height;
  // Still wider than the pane at the smallest scale: leave room for the sideways scroll bar.
  if (root.scrollWidth > root.clientWidth) height += (frame.contentWindow?.innerHeight ?? 0) - root.clientHeight;
  return Math.min(MAX_HEIGHT, Math.ceil(height));
}

/** HTML mail in a sandboxed frame that grows to its content, so only the thread scrolls. */
export function HtmlFrame({ html, attachments = [], allowRemoteImages, title }: HtmlFrameProps) {
  const resolved = useInlineImages(html, attachments);
  const srcdoc = useMemo(
    () => (resolved === null ? null : buildSrcdoc(resolved, { allowRemoteImages })),
    [resolved, allowRemoteImages],
  );
  const frameRef = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(INITIAL_HEIGHT);

  const measure = useCallback(() => {
    const frame = frameRef.current;
    const next = frame === null ? null : fitAndMeasure(frame);
    if (next !== null && next > 0) setHeight(next);
  }, []);

  // Measure on load, then whenever the content changes size: late images, a narrower pane.
  // The observer watches the frame's document from here, which allow-same-origin permits.
  useEffect(() => {
    const frame = frameRef.current;
    if (frame === null || srcdoc === null) return;
    let observer: ResizeObserver | null = null;
    let observedDoc: Document | null = null;
    const attach = () => {
      measure();
      const doc = frame.contentDocument;
      if (doc === null || doc === observedDoc || doc.body === null) return;
      observer?.disconnect();
      observedDoc?.removeEventListener("load", measure, true);
      observedDoc = doc;
      // Images finishing late fire "load" on themselves; capture sees them all.
      doc.addEventListener("load", measure, true);
      if (typeof ResizeObserver !== "undefined") {
        observer = new ResizeObserver(measure);
        observer.observe(doc.body);
        observer.observe(doc.documentElement);
      }
    };
    frame.addEventListener("load", attach);
    // The document may have loaded before this effect ran.
    if (frame.contentDocument?.readyState === "complete" && frame.contentDocument.body?.childNodes.length) attach();
    return () => {
      frame.removeEventListener("load", attach);
      observedDoc?.removeEventListener("load", measure, true);
      observer?.disconnect();
    };
  }, [srcdoc, measure]);

  if (srcdoc === null) return <Skeleton variant="rounded" height={INITIAL_HEIGHT} aria-label="Loading pictures" />;

  return (
    <Box
      sx={(theme) => ({
        bgcolor: "#fff",
        borderRadius: 1,
        overflow: "hidden",
        // On the dark theme the mail's light sheet gets a margin so it reads as paper.
        ...theme.applyStyles("dark", { p: 1.5 }),
      })}
    >
      <Box
        component="iframe"
        ref={frameRef}
        title={title}
        srcDoc={srcdoc}
        sandbox={FRAME_SANDBOX}
        referrerPolicy="no-referrer"
        style={{ height }}
        sx={{ display: "block", width: "100%", border: 0, bgcolor: "#fff", colorScheme: "light" }}
      />
    </Box>
  );
}
