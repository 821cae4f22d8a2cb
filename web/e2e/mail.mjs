// Reading the mail Postwise sent to the e2e SMTP sink (aiosmtpd's Mailbox
// handler writes a Maildir): a minimal MIME reader for the text/plain part.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

function splitHead(raw) {
  const index = raw.search(/\r?\n\r?\n/);
  if (index < 0) return { head: raw, body: "" };
  const separator = raw.slice(index).match(/^\r?\n\r?\n/)[0];
  return { head: raw.slice(0, index), body: raw.slice(index + separator.length) };
}

function parseHeaders(head) {
  const headers = new Map();
  // Folded header lines continue with whitespace.
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function param(value, name) {
  const match = value?.match(new RegExp(`${name}="?([^";]+)"?`, "i"));
  return match?.[1];
}

function decodeBody(body, encoding, charset = "utf-8") {
  switch ((encoding ?? "7bit").toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString(charset);
    case "quoted-printable": {
      const bytes = body
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16)));
      return Buffer.from(bytes, "latin1").toString(charset);
    }
    default:
      return body;
  }
}

/** The first text/plain part of a message, decoded. */
function textPart(raw) {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const type = headers.get("content-type") ?? "text/plain";
  if (type.toLowerCase().startsWith("multipart/")) {
    const boundary = param(type, "boundary");
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith("--")) break;
      const text = textPart(part.replace(/^\r?\n/, ""));
      if (text !== undefined) return text;
    }
    return undefined;
  }
  if (!type.toLowerCase().startsWith("text/plain")) return undefined;
  return decodeBody(body, headers.get("content-transfer-encoding"), param(type, "charset"));
}

export function parseMessage(raw) {
  const headers = parseHeaders(splitHead(raw).head);
  const text = textPart(raw) ?? "";
  return {
    to: headers.get("to") ?? "",
    subject: headers.get("subject") ?? "",
    text,
    links: text.match(/https?:\/\/[^\s<>"]+/g) ?? [],
  };
}

/** Every message in the Maildir (new/ and cur/), oldest first. */
export async function readMaildir(dir) {
  const messages = [];
  for (const sub of ["new", "cur"]) {
    let names = [];
    try {
      names = await readdir(path.join(dir, sub));
    } catch {
      continue; // not created yet
    }
    for (const name of names.sort()) {
      messages.push(parseMessage(await readFile(path.join(dir, sub, name), "utf8")));
    }
  }
  return messages;
}
