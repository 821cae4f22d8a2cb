import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { authStore } from "@/auth/store";
import { fakeApi, json, TOKENS } from "@/test/fakeApi";
import { renderWithProviders } from "@/test/render";

import { ImportCard } from "./ImportCard";

/** An XMLHttpRequest that the test drives: it reports upload progress, then answers. */
class FakeUpload {
  static last: FakeUpload | undefined;
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  responseText = "";
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeUpload.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total } as ProgressEvent);
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

const STATUS = {
  import_id: "imp-1",
  account_id: "acc-9",
  messages: 0,
  bytes_read: 0,
  bytes_total: 2_000_000,
  imported: 0,
  skipped: 0,
  errors: 0,
  error: null,
};

/** Choose a file; resolves with it and the upload request once the upload has started. */
async function chooseFile(size = 64): Promise<{ file: File; request: FakeUpload }> {
  FakeUpload.last = undefined;
  // Small: the progress events below report the sizes, and a failed comparison never has to
  // print megabytes.
  const file = new File(["x".repeat(size)], "All mail.mbox", { type: "application/mbox" });
  fireEvent.change(screen.getByTestId("mbox-input"), { target: { files: [file] } });
  await waitFor(() => expect(FakeUpload.last).toBeDefined());
  return { file, request: FakeUpload.last as unknown as FakeUpload };
}

describe("ImportCard", { timeout: 20_000 }, () => {
  it("shows the upload's progress, then the server's, then how many were imported", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeUpload);
    const api = fakeApi({
      "GET /api/accounts/import/imp-1": [
        () => json({ ...STATUS, status: "importing", messages: 120, bytes_read: 1_000_000 }),
        () => json({ ...STATUS, status: "done", messages: 240, bytes_read: 2_000_000, imported: 230, skipped: 10 }),
      ],
    });
    vi.stubGlobal("fetch", api.fetch);
    authStore.setTokens(TOKENS);
    renderWithProviders(<ImportCard />);

    const { file, request } = await chooseFile();
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/api/accounts/import");
    expect(request.headers).toEqual({ "Content-Type": "application/mbox", Authorization: "Bearer access-1" });
    expect(request.body === file).toBe(true);

    request.progress(500_000, 2_000_000);
    const uploading = await screen.findByRole("progressbar", { name: /Uploading All mail\.mbox/ });
    expect(uploading).toHaveAttribute("aria-valuenow", "25");
    expect(screen.getByText(/500 KB of 2 MB/)).toBeInTheDocument();

    request.progress(2_000_000, 2_000_000);
    request.answer(202, { import_id: "imp-1", account_id: "acc-9", status: "importing" });

    const importing = await screen.findByRole("progressbar", { name: /Importing — 120 messages read so far/ });
    expect(importing).toHaveAttribute("aria-valuenow", "50");
    expect(await screen.findByText(/Imported 230 messages \(10 already there\)\./, {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.queryByRole("progressbar")).toBeNull();
    expect(screen.getByRole("button", { name: "Import another file" })).toBeEnabled();
  });

  it("says in words why the server refused the file", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeUpload);
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    authStore.setTokens(TOKENS);
    renderWithProviders(<ImportCard />);

    const { request } = await chooseFile(10);
    request.answer(422, { status: 422, code: "not_mbox", title: "Not mbox" });

    expect(await screen.findByRole("alert")).toHaveTextContent("That file isn't an mbox file.");
    expect(screen.getByRole("button", { name: "Import another file" })).toBeEnabled();
  });

  it("cancels an upload without calling it a failure", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeUpload);
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    authStore.setTokens(TOKENS);
    renderWithProviders(<ImportCard />);

    await chooseFile();
    fireEvent.click(await screen.findByRole("button", { name: "Cancel upload" }));

    await waitFor(() => expect(screen.queryByRole("progressbar")).toBeNull());
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
