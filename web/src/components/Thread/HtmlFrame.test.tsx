import { screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { attachment } from "./fixtures";
import { FRAME_SANDBOX, HtmlFrame } from "./HtmlFrame";
import { clearInlineImageCache } from "./inlineImages";

function frame(): HTMLIFrameElement {
  return screen.getByTitle("Message from Ana Silva") as HTMLIFrameElement;
}

/** The Content-Security-Policy the frame's own document declares. */
function frameCsp(srcdoc: string): string {
  const doc = new DOMParser().parseFromString(srcdoc, "text/html");
  const meta = doc.head.querySelector('meta[http-equiv="Content-Security-Policy"]');
  if (meta === null) throw new Error("no CSP meta");
  // Only the charset may precede it: it applies before anything that could load or run.
  expect([...doc.head.children].indexOf(meta)).toBeLessThanOrEqual(1);
  return meta.getAttribute("content") ?? "";
}

function directive(csp: string, name: string): string[] {
  const found = csp.split(";").map((part) => part.trim().split(/\s+/)).find(([key]) => key === name);
  return found?.slice(1) ?? [];
}

const HOSTILE_LEFTOVER = '<p>Hello <b>Bo</b></p><img data-postwise-src="https://tracker.example/p.gif">';

describe("HtmlFrame", () => {
  beforeEach(() => clearInlineImageCache());
  afterEach(() => vi.restoreAllMocks());

  it("sandboxes the mail without script and keeps remote loads out of its policy", () => {
    renderWithProviders(<HtmlFrame html={HOSTILE_LEFTOVER} allowRemoteImages={false} title="Message from Ana Silva" />);
    const iframe = frame();

    const sandbox = iframe.getAttribute("sandbox") ?? "";
    expect(sandbox.split(/\s+/).sort()).toEqual([
      "allow-popups",
      "allow-popups-to-escape-sandbox",
      "allow-same-origin",
    ]);
    expect(sandbox).not.toContain("allow-scripts");
    expect(FRAME_SANDBOX).not.toContain("allow-scripts");
    expect(iframe.getAttribute("referrerpolicy")).toBe("no-referrer");
    expect(iframe.hasAttribute("src")).toBe(false);

    const srcdoc = iframe.getAttribute("srcdoc") ?? "";
    const csp = frameCsp(srcdoc);
    expect(directive(csp, "default-src")).toEqual(["'none'"]);
    expect(directive(csp, "script-src")).toEqual(["'none'"]);
    expect(directive(csp, "img-src").sort()).toEqual(["blob:", "data:"]);
    expect(csp).not.toMatch(/https?:(?!\S)/);

    const doc = new DOMParser().parseFromString(srcdoc, "text/html");
    expect(doc.body.innerHTML).toBe(HOSTILE_LEFTOVER);
    expect(doc.querySelector("base")?.getAttribute("target")).toBe("_blank");
    expect(doc.querySelector("base")?.hasAttribute("href")).toBe(false);
  });

  it("lets remote images load only once the reader chose to see them", () => {
    renderWithProviders(<HtmlFrame html="<p>Hi</p>" allowRemoteImages title="Message from Ana Silva" />);
    const csp = frameCsp(frame().getAttribute("srcdoc") ?? "");
    expect(directive(csp, "img-src").sort()).toEqual(["blob:", "data:", "http:", "https:"]);
    expect(directive(csp, "default-src")).toEqual(["'none'"]);
    expect(directive(csp, "script-src")).toEqual(["'none'"]);
  });

  it("shows inline pictures from the message's attachments, fetched with the sign-in", async () => {
    const api = fakeApi({
      "GET /api/messages/1/attachments/2": () =>
        new Response("GIF89a", { headers: { "Content-Type": "image/gif" } }),
    });
    vi.stubGlobal("fetch", api.fetch);
    vi.spyOn(URL, "createObjectURL").mockReturnValue("blob:http://localhost/logo");
    authStore.setTokens(TOKENS);
    const logo = attachment({
      position: 2,
      filename: "logo.gif",
      content_type: "image/gif",
      content_id: "Logo.123@example.com",
      is_inline: true,
    });

    renderWithProviders(
      <HtmlFrame
        html={'<p>Hi</p><img src="cid:logo.123@example.com" alt="Logo"><p>text about cid:logo.123@example.com</p>'}
        attachments={[logo]}
        allowRemoteImages={false}
        title="Message from Ana Silva"
      />,
    );

    await waitFor(() => expect(frame().getAttribute("srcdoc")).toContain('src="blob:http://localhost/logo"'));
    // Text that merely mentions the address is left alone.
    expect(frame().getAttribute("srcdoc")).toContain("text about cid:logo.123@example.com");
    const calls = api.callsTo("GET", "/api/messages/1/attachments/2");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers.get("Authorization")).toBe("Bearer access-1");
  });
});
