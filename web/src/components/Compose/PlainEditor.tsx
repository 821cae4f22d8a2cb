"use client";

import InputBase from "@mui/material/InputBase";
import { useEffect, useRef } from "react";

import type { BodyEditorProps } from "./bodyEditor";

/** The body in plain-text mode: what is typed is what is sent, with no formatting. */
export function PlainEditor({ initialText, label, onChange, onReady, autoFocus, onFiles, minHeight = 160 }: BodyEditorProps) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const handle = {
      read: () => ({ html: null, text: ref.current?.value ?? initialText }),
      focus: (where: "start" | "end" = "start") => {
        const area = ref.current;
        if (!area) return false;
        area.focus();
        const at = where === "start" ? 0 : area.value.length;
        area.setSelectionRange(at, at);
        if (where === "start") area.scrollTop = 0;
        return true;
      },
    };
    onReady(handle);
    if (autoFocus) handle.focus("start");
    return () => onReady(null);
    // Focus once, when the editor appears.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [onReady]);

  return (
    <InputBase
      inputRef={ref}
      multiline
      minRows={8}
      fullWidth
      defaultValue={initialText}
      onChange={onChange}
      placeholder="Write your message"
      inputProps={{ "aria-label": label, spellCheck: true }}
      onPaste={(event) => {
        const files = [...event.clipboardData.files];
        if (files.length > 0 && onFiles) {
          event.preventDefault();
          onFiles(files);
        }
      }}
      sx={{ flex: 1, alignItems: "flex-start", fontSize: 15, lineHeight: 1.5, py: 1, minHeight, fontFamily: "inherit" }}
    />
  );
}
