"use client";

import Box from "@mui/material/Box";
import { useRef, type KeyboardEvent, type PointerEvent } from "react";

import { LIST_WIDTH_MAX, LIST_WIDTH_MIN } from "./preferences";

interface PaneResizerProps {
  width: number;
  /** While dragging: the width to show. */
  onResize: (width: number) => void;
  /** When the drag ends: the width to remember. */
  onCommit: (width: number) => void;
}

const STEP = 16;

function clamp(width: number): number {
  return Math.min(LIST_WIDTH_MAX, Math.max(LIST_WIDTH_MIN, Math.round(width)));
}

/** The handle between the list and the reading pane: drag it, or focus it and use the arrows. */
export function PaneResizer({ width, onResize, onCommit }: PaneResizerProps) {
  const drag = useRef<{ x: number; width: number; last: number } | null>(null);

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { x: event.clientX, width, last: width };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (!start) return;
    start.last = clamp(start.width + event.clientX - start.x);
    onResize(start.last);
  };
  const onPointerUp = () => {
    const start = drag.current;
    drag.current = null;
    if (start) onCommit(start.last);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const change = { ArrowLeft: -STEP, ArrowRight: STEP, Home: -Infinity, End: Infinity }[event.key];
    if (change === undefined) return;
    event.preventDefault();
    onCommit(clamp(Number.isFinite(change) ? width + change : change < 0 ? LIST_WIDTH_MIN : LIST_WIDTH_MAX));
  };

  return (
    <Box
      role="separator"
      aria-orientation="vertical"
      aria-label="Resize the conversation list"
      aria-valuenow={width}
      aria-valuemin={LIST_WIDTH_MIN}
      aria-valuemax={LIST_WIDTH_MAX}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onKeyDown={onKeyDown}
      sx={{
        flex: "none",
        width: 8,
        mx: "-4px",
        zIndex: 1,
        cursor: "col-resize",
        touchAction: "none",
        position: "relative",
        "&::after": {
          content: '""',
          position: "absolute",
          top: 0,
          bottom: 0,
          left: 3.5,
          width: "1px",
          bgcolor: "divider",
        },
        "&:hover::after, &:focus-visible::after": { left: 2.5, width: "3px", bgcolor: "primary.main" },
        "&:focus-visible": { outline: "none" },
      }}
    />
  );
}
