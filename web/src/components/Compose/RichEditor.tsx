"use client";

import FormatBold from "@mui/icons-material/FormatBold";
import FormatItalic from "@mui/icons-material/FormatItalic";
import FormatListBulleted from "@mui/icons-material/FormatListBulleted";
import FormatListNumbered from "@mui/icons-material/FormatListNumbered";
import FormatQuote from "@mui/icons-material/FormatQuote";
import FormatUnderlined from "@mui/icons-material/FormatUnderlined";
import InsertLink from "@mui/icons-material/InsertLink";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Popover from "@mui/material/Popover";
import TextField from "@mui/material/TextField";
import Tooltip from "@mui/material/Tooltip";
import Placeholder from "@tiptap/extension-placeholder";
import { EditorContent, Extension, useEditor, useEditorState, type Editor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";

import type { BodyEditorHandle, BodyEditorProps } from "./bodyEditor";
import { htmlToText, textToHtml } from "./bodyText";

const MOD = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl+";

// Ctrl/Cmd+Enter sends (the compose window listens); without this the editor would insert a
// line break first.
const SendKey = Extension.create({
  name: "composeSendKey",
  priority: 1000,
  addKeyboardShortcuts() {
    return { "Mod-Enter": () => true };
  },
});

interface ToolProps {
  label: string;
  shortcut?: string;
  active?: boolean;
  onClick: () => void;
  children: ReactNode;
}

function Tool({ label, shortcut, active, onClick, children }: ToolProps) {
  return (
    <Tooltip title={shortcut ? `${label} (${shortcut})` : label}>
      <IconButton
        size="small"
        aria-label={label}
        aria-pressed={active ?? undefined}
        // The editor keeps its selection: the button must not take the focus on click.
        onMouseDown={(event) => event.preventDefault()}
        onClick={onClick}
        sx={{ borderRadius: 1, color: active ? "primary.main" : "text.secondary", bgcolor: active ? "action.selected" : undefined }}
      >
        {children}
      </IconButton>
    </Tooltip>
  );
}

function LinkPopover({ editor, anchor, onClose }: { editor: Editor; anchor: HTMLElement | null; onClose: () => void }) {
  const current = (editor.getAttributes("link").href as string | undefined) ?? "";
  const [href, setHref] = useState(current);
  const apply = () => {
    const value = href.trim();
    const chain = editor.chain().focus().extendMarkRange("link");
    if (value === "") chain.unsetLink().run();
    else {
      const url = /^[a-z][a-z0-9+.-]*:/i.test(value) ? value : value.includes("@") ? `mailto:${value}` : `https://${value}`;
      if (editor.state.selection.empty && !editor.isActive("link")) {
        chain.insertContent({ type: "text", text: value, marks: [{ type: "link", attrs: { href: url } }] }).run();
      } else chain.setLink({ href: url }).run();
    }
    onClose();
  };
  return (
    <Popover
      open={anchor !== null}
      anchorEl={anchor}
      onClose={onClose}
      anchorOrigin={{ vertical: "bottom", horizontal: "left" }}
      slotProps={{ paper: { sx: { p: 1.5, display: "flex", gap: 1, alignItems: "center" } } }}
    >
      <TextField
        size="small"
        label="Link address"
        autoFocus
        value={href}
        onChange={(event) => setHref(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            apply();
          }
        }}
        sx={{ width: 260 }}
      />
      <Button onClick={apply} variant="contained" size="small">
        Apply
      </Button>
      {current && (
        <Button
          size="small"
          onClick={() => {
            editor.chain().focus().extendMarkRange("link").unsetLink().run();
            onClose();
          }}
        >
          Remove
        </Button>
      )}
    </Popover>
  );
}

function Toolbar({ editor, onLink }: { editor: Editor; onLink: (anchor: HTMLElement) => void }) {
  const state = useEditorState({
    editor,
    selector: ({ editor: e }) => ({
      bold: e.isActive("bold"),
      italic: e.isActive("italic"),
      underline: e.isActive("underline"),
      bullet: e.isActive("bulletList"),
      ordered: e.isActive("orderedList"),
      quote: e.isActive("blockquote"),
      link: e.isActive("link"),
    }),
  });
  const run = (command: (chain: ReturnType<Editor["chain"]>) => ReturnType<Editor["chain"]>) => () =>
    void command(editor.chain().focus()).run();
  const linkButton = useRef<HTMLSpanElement>(null);
  return (
    <Box role="toolbar" aria-label="Formatting" sx={{ display: "flex", flexWrap: "wrap", gap: 0.25, py: 0.5 }}>
      <Tool label="Bold" shortcut={`${MOD}B`} active={state.bold} onClick={run((c) => c.toggleBold())}>
        <FormatBold fontSize="small" />
      </Tool>
      <Tool label="Italic" shortcut={`${MOD}I`} active={state.italic} onClick={run((c) => c.toggleItalic())}>
        <FormatItalic fontSize="small" />
      </Tool>
      <Tool label="Underline" shortcut={`${MOD}U`} active={state.underline} onClick={run((c) => c.toggleUnderline())}>
        <FormatUnderlined fontSize="small" />
      </Tool>
      <Tool label="Bulleted list" active={state.bullet} onClick={run((c) => c.toggleBulletList())}>
        <FormatListBulleted fontSize="small" />
      </Tool>
      <Tool label="Numbered list" active={state.ordered} onClick={run((c) => c.toggleOrderedList())}>
        <FormatListNumbered fontSize="small" />
      </Tool>
      <Tool label="Quote" active={state.quote} onClick={run((c) => c.toggleBlockquote())}>
        <FormatQuote fontSize="small" />
      </Tool>
      <Box component="span" ref={linkButton}>
        <Tool
          label="Link"
          shortcut={`${MOD}K`}
          active={state.link}
          onClick={() => linkButton.current && onLink(linkButton.current)}
        >
          <InsertLink fontSize="small" />
        </Tool>
      </Box>
    </Box>
  );
}

/** The formatted body: Tiptap with bold, italic, lists, links and quotes. Loaded on demand. */
export function RichEditor({
  initialHtml,
  initialText,
  label,
  onChange,
  onReady,
  autoFocus,
  onFiles,
  minHeight = 160,
  toolbarSlot,
}: BodyEditorProps) {
  const changed = useRef(onChange);
  const files = useRef(onFiles);
  useEffect(() => {
    changed.current = onChange;
    files.current = onFiles;
  });
  const [linkAnchor, setLinkAnchor] = useState<HTMLElement | null>(null);
  const editor = useEditor({
    extensions: [
      StarterKit.configure({
        link: { openOnClick: false, autolink: true, defaultProtocol: "https", protocols: ["http", "https", "mailto"] },
      }),
      Placeholder.configure({ placeholder: "Write your message" }),
      SendKey,
    ],
    content: initialHtml ?? textToHtml(initialText),
    immediatelyRender: true,
    shouldRerenderOnTransaction: false,
    autofocus: autoFocus ? "start" : false,
    editorProps: {
      attributes: { role: "textbox", "aria-multiline": "true", "aria-label": label, spellcheck: "true" },
      handleDrop: (_view, event) => {
        const dropped = [...(event.dataTransfer?.files ?? [])];
        if (dropped.length === 0 || !files.current) return false;
        event.preventDefault();
        files.current(dropped);
        return true;
      },
      handlePaste: (_view, event) => {
        const pasted = [...(event.clipboardData?.files ?? [])];
        if (pasted.length === 0 || !files.current) return false;
        files.current(pasted);
        return true;
      },
    },
    // Only the user's own edits: plugins also change the document by themselves (the trailing
    // paragraph added when the editor first takes the focus), and that is no reason to save.
    onUpdate: ({ transaction }) => {
      if (transaction.docChanged) changed.current();
    },
  });

  useEffect(() => {
    // What the editor held when it went: read after that, it has nothing left to give.
    let last: { html: string; text: string } | null = null;
    const read = () => {
      if (last !== null && (editor.isDestroyed || editor.schema === null)) return last;
      const html = editor.getHTML();
      last = { html, text: htmlToText(html) };
      return last;
    };
    const onDestroy = () => {
      read();
    };
    editor.on("destroy", onDestroy);
    const handle: BodyEditorHandle = {
      read,
      focus: (where = "start") => {
        if (editor.isDestroyed) return false;
        editor.commands.focus(where);
        return true;
      },
    };
    onReady(handle);
    return () => {
      editor.off("destroy", onDestroy);
      onReady(null);
    };
  }, [editor, onReady]);

  const toolbar = <Toolbar editor={editor} onLink={setLinkAnchor} />;
  return (
    <Box
      onKeyDown={(event) => {
        if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
          event.preventDefault();
          setLinkAnchor((event.currentTarget.querySelector('[aria-label="Link"]') as HTMLElement | null) ?? event.currentTarget);
        }
      }}
      sx={{ display: "flex", flexDirection: "column", flex: "1 0 auto" }}
    >
      <Box
        sx={{
          flex: "1 0 auto",
          display: "flex",
          flexDirection: "column",
          minHeight,
          cursor: "text",
          fontSize: 15,
          lineHeight: 1.5,
          "& > div": { flex: "1 0 auto", display: "flex", flexDirection: "column" },
          "& .tiptap": { outline: "none", flex: "1 0 auto", minHeight, py: 1, overflowWrap: "anywhere" },
          // A line per Enter, as in every mail client.
          "& .tiptap p": { m: 0 },
          "& .tiptap ul, & .tiptap ol": { my: 0.5, pl: 3 },
          "& .tiptap blockquote": { m: 0, my: 0.5, pl: 1.5, borderLeft: 3, borderColor: "divider", color: "text.secondary" },
          "& .tiptap a": { color: "primary.main" },
          "& .tiptap p.is-editor-empty:first-of-type::before": {
            content: "attr(data-placeholder)",
            color: "text.disabled",
            float: "left",
            height: 0,
            pointerEvents: "none",
          },
        }}
        onClick={(event) => {
          if (event.target === event.currentTarget) editor.commands.focus("end");
        }}
      >
        <EditorContent editor={editor} />
      </Box>
      {toolbarSlot ? createPortal(toolbar, toolbarSlot) : toolbar}
      {linkAnchor !== null && <LinkPopover editor={editor} anchor={linkAnchor} onClose={() => setLinkAnchor(null)} />}
    </Box>
  );
}
