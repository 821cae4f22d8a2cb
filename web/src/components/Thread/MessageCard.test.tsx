import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { useThread, type Message } from "@/api/thread";
import { authStore } from "@/auth/store";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { attachment, message, thread, THREAD_ID } from "./fixtures";
import { MessageCard } from "./MessageCard";

const OWN = new Set(["me@example.com"]);

/** The card as the thread view shows it: reading the message from the thread's cache. */
function CachedCard({ id }: { id: number }) {
  const query = useThread(THREAD_ID);
  const found = query.data?.messages.find((m) => m.id === id);
  return found ? <MessageCard message={found} expanded own={OWN} /> : null;
}

function serveThread(messages: Message[], routes: Parameters<typeof fakeApi>[0] = {}) {
  const api = fakeApi({ [`GET /api/threads/${THREAD_ID}`]: () => json(thread(messages)), ...routes });
  vi.stubGlobal("fetch", api.fetch);
  authStore.setTokens(TOKENS);
  return api;
}

describe("MessageCard", () => {
  afterEach(() => vi.restoreAllMocks());

  it("folds to one line of sender, snippet and date, and opens on click", async () => {
    const onToggle = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(
      <MessageCard message={message({ snippet: "See the numbers" })} expanded={false} onToggle={onToggle} own={OWN} />,
    );

    const line = screen.getByRole("button", { expanded: false });
    expect(line).toHaveTextContent("Ana Silva");
    expect(line).toHaveTextContent("See the numbers");
    expect(within(line).getByText(/2024/)).toHaveAttribute("datetime", "2024-03-05T10:15:00Z");
    expect(screen.queryByText("Body of message 1")).toBeNull();

    await user.click(line);
    expect(onToggle).toHaveBeenCalledTimes(1);
  });

  it("shows an open message's people, its text with links, and folds the quote at its offset", async () => {
    const user = userEvent.setup();
    // An emoji counts once on the server (code points) but twice in JavaScript.
    const reply = "Sounds good 👍 see https://example.com/plan.\n\n";
    const quote = "On Monday, Bo wrote:\n> the plan";
    renderWithProviders(
      <MessageCard
        message={message({
          to: [
            { name: "Me Myself", address: "ME@example.com" },
            { name: "Bo Berg", address: "bo@example.com" },
          ],
          body_text: reply + quote,
          quote_offset: [...reply].length,
          is_starred: true,
        })}
        expanded
        own={OWN}
      />,
    );

    expect(screen.getByText("Ana Silva")).toBeInTheDocument();
    expect(screen.getByText("<ana@example.com>")).toBeInTheDocument();
    expect(screen.getByText("to me, Bo")).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Starred" })).toBeInTheDocument();

    const text = screen.getByTestId("message-text");
    expect(text.textContent).toBe("Sounds good 👍 see https://example.com/plan.");
    const link = within(text).getByRole("link", { name: "https://example.com/plan" });
    expect(link).toHaveAttribute("href", "https://example.com/plan");
    expect(link).toHaveAttribute("target", "_blank");
    expect(link).toHaveAttribute("rel", "noopener noreferrer");
    expect(screen.queryByText(/Bo wrote/)).toBeNull();

    await user.click(screen.getByRole("button", { name: "Show quoted text" }));
    expect(screen.getByTestId("quoted-text").textContent).toBe(quote);
    expect(screen.getByRole("button", { name: "Hide quoted text" })).toHaveAttribute("aria-expanded", "true");
  });

  it("lists attachments with icon, name and size, and downloads one with the sign-in", async () => {
    const api = serveThread([], {
      "GET /api/messages/1/attachments/0": () =>
        new Response("%PDF-1.7", { headers: { "Content-Type": "application/pdf" } }),
    });
    vi.spyOn(URL, "createObjectURL").mockReturnValue("blob:http://localhost/report");
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    const user = userEvent.setup();
    renderWithProviders(
      <MessageCard
        message={message({
          attachments: [
            attachment({ position: 0 }),
            attachment({ position: 1, filename: "photos.zip", content_type: "application/zip", size: 999 }),
            attachment({
              position: 2,
              filename: "logo.png",
              content_type: "image/png",
              content_id: "l",
              is_inline: true,
            }),
          ],
          body_html: '<p>Hi</p><img src="cid:l">',
        })}
        expanded
        own={OWN}
      />,
    );

    const list = screen.getByRole("list", { name: "2 attachments" });
    const pdf = within(list).getByRole("button", { name: "Download report.pdf, 1.2 MB" });
    expect(pdf.querySelector('[data-icon="pdf"]')).not.toBeNull();
    const zip = within(list).getByRole("button", { name: "Download photos.zip, 999 bytes" });
    expect(zip.querySelector('[data-icon="archive"]')).not.toBeNull();
    // The inline picture is part of the HTML body, not a file to list again.
    expect(within(list).queryByRole("button", { name: /logo\.png/ })).toBeNull();

    await user.click(pdf);
    await waitFor(() => expect(clicked).toHaveLength(1));
    expect(clicked[0]?.download).toBe("report.pdf");
    expect(clicked[0]?.href).toBe("blob:http://localhost/report");
    const calls = api.callsTo("GET", "/api/messages/1/attachments/0");
    expect(calls[0]?.headers.get("Authorization")).toBe("Bearer access-1");
  });

  it("hides remote images behind a bar, names the tracker, and shows them when asked", async () => {
    const hidden = message({
      body_html: '<p>News</p><img data-postwise-src="https://cdn.example/a.png">',
      has_remote_images: true,
      has_tracking_pixel: true,
    });
    const shown = { ...hidden, show_images: true, body_html: '<p>News</p><img src="https://cdn.example/a.png">' };
    const api = serveThread([hidden], { "PATCH /api/messages/1": () => json(shown) });
    const user = userEvent.setup();
    renderWithProviders(<CachedCard id={1} />);

    expect(await screen.findByText("Images are hidden to protect your privacy.")).toBeInTheDocument();
    expect(screen.getByText(/tries to track when you open it; the tracker is blocked/)).toBeInTheDocument();
    const frame = screen.getByTitle("Message from Ana Silva");
    expect(frame.getAttribute("srcdoc")).not.toMatch(/img-src [^;]*https:/);

    await user.click(screen.getByRole("button", { name: "Show images" }));

    await waitFor(() => expect(screen.queryByText("Images are hidden to protect your privacy.")).toBeNull());
    expect(api.callsTo("PATCH", "/api/messages/1")[0]?.body).toEqual({ show_images: true });
    const srcdoc = screen.getByTitle("Message from Ana Silva").getAttribute("srcdoc") ?? "";
    expect(srcdoc).toContain('<img src="https://cdn.example/a.png">');
    expect(srcdoc).toMatch(/img-src [^;]*https:/);
    // The tracker stays blocked, and the reader is still told so.
    expect(screen.getByText(/the tracker is blocked/)).toBeInTheDocument();
  });

  it("switches an HTML message to its plain text, and notes a message that could not be read whole", async () => {
    const user = userEvent.setup();
    renderWithProviders(
      <MessageCard
        message={message({
          body_html: "<p>Formatted</p>",
          body_text: "Plain version",
          parse_error: "multipart boundary missing",
          list_unsubscribe: "<http://list.example/u>, <mailto:leave@list.example>",
        })}
        expanded
        own={OWN}
      />,
    );

    expect(screen.getByText(/couldn.t be read, so it may look incomplete/)).toBeInTheDocument();
    expect(screen.queryByText(/boundary/)).toBeNull();
    expect(screen.getByRole("link", { name: "Unsubscribe" })).toHaveAttribute("href", "mailto:leave@list.example");
    expect(screen.getByTitle("Message from Ana Silva")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "More options for this message" }));
    await user.click(screen.getByRole("menuitem", { name: "Show plain text" }));

    expect(screen.getByTestId("message-text")).toHaveTextContent("Plain version");
    expect(screen.queryByTitle("Message from Ana Silva")).toBeNull();
  });
});
