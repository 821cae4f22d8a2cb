/**
 * The text/plain side of a message written as HTML, and back. The editor writes HTML; the text
 * part is what plain-text readers and the "plain text" mode see, so quotes keep their `> ` and
 * lists their markers rather than being flattened into one run of words.
 */

const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "div",
  "dl",
  "dt",
  "dd",
  "figure",
  "footer",
  "form",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "li",
  "main",
  "nav",
  "ol",
  "p",
  "pre",
  "section",
  "table",
  "tr",
  "ul",
]);
const SKIPPED = new Set(["script", "style", "head", "title", "template", "noscript"]);

function endLine(out: string): string {
  return out === "" || out.endsWith("\n") ? out : `${out}\n`;
}

function prefixLines(text: string, first: string, rest: string): string {
  return text
    .split("\n")
    .map((line, index) => (index === 0 ? first : rest) + line)
    .map((line) => line.replace(/\s+$/, (space) => (line.trim() === ">" ? "" : space)))
    .join("\n");
}

function inlineText(node: Node, pre: boolean): string {
  if (node.nodeType === Node.TEXT_NODE) {
    const text = node.textContent ?? "";
    return pre ? text : text.replace(/\s+/g, " ");
  }
  if (!(node instanceof Element)) return "";
  const tag = node.tagName.toLowerCase();
  if (SKIPPED.has(tag)) return "";
  if (tag === "br") return "\n";
  if (tag === "img") return node.getAttribute("alt") ?? "";
  if (BLOCKS.has(tag)) return blockText(node, pre);
  const inner = childrenText(node, pre || tag === "pre");
  if (tag === "a") {
    const href = node.getAttribute("href") ?? "";
    const shown = inner.trim();
    const target = href.replace(/^mailto:/i, "");
    if (href && shown !== href && shown !== target && !href.startsWith("#")) return `${inner} <${href}>`;
  }
  return inner;
}

function childrenText(element: Element, pre: boolean): string {
  let out = "";
  for (const child of element.childNodes) {
    const tag = child instanceof Element ? child.tagName.toLowerCase() : "";
    if (BLOCKS.has(tag)) {
      // Every block is a line of its own, an empty paragraph a blank one.
      out = `${endLine(out)}${blockText(child as Element, pre)}\n`;
    } else {
      out += inlineText(child, pre);
    }
  }
  return out;
}

function listText(list: Element, pre: boolean): string {
  const ordered = list.tagName.toLowerCase() === "ol";
  let number = Number(list.getAttribute("start") ?? "1") || 1;
  const items: string[] = [];
  for (const child of list.children) {
    if (child.tagName.toLowerCase() !== "li") continue;
    const marker = ordered ? `${number++}. ` : "- ";
    const text = tidy(childrenText(child, pre));
    items.push(prefixLines(text, marker, " ".repeat(marker.length)));
  }
  return items.join("\n");
}

function blockText(element: Element, pre: boolean): string {
  const tag = element.tagName.toLowerCase();
  if (tag === "hr") return "---";
  if (tag === "ul" || tag === "ol") return listText(element, pre);
  if (tag === "pre") return element.textContent ?? "";
  const inner = tidy(childrenText(element, pre));
  if (tag === "blockquote") return prefixLines(inner, "> ", "> ");
  return inner;
}

/** Trim each line's edges (not inside the text) and the block's leading and trailing breaks. */
function tidy(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/^ +/, "").replace(/ +$/, ""))
    .join("\n")
    .replace(/^\n+|\n+$/g, "");
}

/** The plain text of an HTML body: a line per paragraph, `> ` quotes, `- ` and `1. ` lists. */
export function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(html, "text/html");
  return childrenText(doc.body, false)
    .split("\n")
    .map((line) => line.replace(/\s+$/, ""))
    .join("\n")
    .replace(/^\n+|\n+$/g, "");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function linesToHtml(lines: readonly string[]): string {
  let html = "";
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? "";
    if (line.startsWith(">")) {
      const quoted: string[] = [];
      while (index < lines.length && (lines[index] ?? "").startsWith(">")) {
        quoted.push((lines[index] ?? "").replace(/^> ?/, ""));
        index += 1;
      }
      html += `<blockquote>${linesToHtml(quoted)}</blockquote>`;
      continue;
    }
    html += line === "" ? "<p></p>" : `<p>${escapeHtml(line)}</p>`;
    index += 1;
  }
  return html;
}

/** Plain text as editor HTML: a paragraph per line, `>` lines as quotes. */
export function textToHtml(text: string): string {
  if (text === "") return "";
  return linesToHtml(text.replace(/\r\n?/g, "\n").split("\n"));
}
