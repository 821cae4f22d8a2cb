import { fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { resolveKey, useMailShortcuts, type ShortcutAction } from "./shortcuts";

const base = { ctrlKey: false, metaKey: false, altKey: false, isComposing: false, target: document.body };

/** A key pressed on the page with no sequence pending. */
function press(key: string, modifiers: Partial<typeof base> = {}) {
  return resolveKey({ ...base, ...modifiers, key }, null);
}

function Harness({ onAction }: { onAction: (action: ShortcutAction) => void }) {
  useMailShortcuts(onAction);
  return (
    <div>
      <input aria-label="Search mail" />
      <textarea aria-label="Reply" />
      <input type="checkbox" aria-label="Select" />
      <div contentEditable aria-label="Editor" suppressContentEditableWarning />
      <button type="button">A button</button>
    </div>
  );
}

afterEach(() => vi.useRealTimers());

describe("resolveKey", () => {
  it("maps Gmail's single keys, Shift included", () => {
    expect(press("j").action).toBe("next");
    expect(press("k").action).toBe("previous");
    expect(press("e").action).toBe("archive");
    expect(press("#").action).toBe("trash");
    expect(press("!").action).toBe("spam");
    expect(press("I").action).toBe("markRead");
    expect(press("U").action).toBe("markUnread");
    expect(press("?").action).toBe("help");
  });

  it("maps c, r, a and f to writing, and leaves them alone inside a compose window", () => {
    expect(press("c").action).toBe("compose");
    expect(press("r").action).toBe("reply");
    expect(press("a").action).toBe("replyAll");
    expect(press("f").action).toBe("forward");
    // "a" after "*" still selects all.
    expect(resolveKey({ ...base, key: "a" }, "*").action).toBe("selectAll");
    const window = document.createElement("div");
    window.setAttribute("data-compose-window", "");
    const send = document.createElement("button");
    window.append(send);
    document.body.append(window);
    expect(press("r", { target: send }).action).toBeNull();
    window.remove();
  });

  it("ignores keys held with Ctrl, Alt or Cmd", () => {
    expect(press("e", { ctrlKey: true }).action).toBeNull();
    expect(press("e", { metaKey: true }).action).toBeNull();
    expect(press("e", { altKey: true }).action).toBeNull();
  });

  it("reads two-key sequences", () => {
    const first = press("g");
    expect(first).toEqual({ action: null, pending: "g" });
    expect(resolveKey({ ...base, key: "i" }, "g").action).toBe("goInbox");
    expect(resolveKey({ ...base, key: "a" }, "*").action).toBe("selectAll");
    expect(resolveKey({ ...base, key: "n" }, "*").action).toBe("selectNone");
    // Without the first key, "i" and "a" mean nothing.
    expect(press("i").action).toBeNull();
  });
});

describe("useMailShortcuts", () => {
  it("fires on the page but never while typing in a field", () => {
    const onAction = vi.fn();
    render(<Harness onAction={onAction} />);

    fireEvent.keyDown(document.body, { key: "e" });
    expect(onAction).toHaveBeenLastCalledWith("archive");

    onAction.mockClear();
    for (const name of ["Search mail", "Reply"]) {
      fireEvent.keyDown(screen.getByLabelText(name), { key: "e" });
      fireEvent.keyDown(screen.getByLabelText(name), { key: "j" });
    }
    fireEvent.keyDown(screen.getByLabelText("Editor"), { key: "#" });
    expect(onAction).not.toHaveBeenCalled();

    // A checkbox is not a text field: the list's own checkboxes keep the keys working.
    fireEvent.keyDown(screen.getByLabelText("Select"), { key: "x" });
    expect(onAction).toHaveBeenLastCalledWith("toggleSelect");
  });

  it("leaves Enter to a focused button, and keeps '/' out of the search field", () => {
    const onAction = vi.fn();
    render(<Harness onAction={onAction} />);
    fireEvent.keyDown(screen.getByRole("button", { name: "A button" }), { key: "Enter" });
    expect(onAction).not.toHaveBeenCalled();

    const slash = new KeyboardEvent("keydown", { key: "/", bubbles: true, cancelable: true });
    document.body.dispatchEvent(slash);
    expect(onAction).toHaveBeenLastCalledWith("search");
    expect(slash.defaultPrevented).toBe(true);
  });

  it("forgets the first key of a sequence after a pause", () => {
    vi.useFakeTimers();
    const onAction = vi.fn();
    render(<Harness onAction={onAction} />);
    fireEvent.keyDown(document.body, { key: "g" });
    vi.advanceTimersByTime(2000);
    fireEvent.keyDown(document.body, { key: "i" });
    expect(onAction).not.toHaveBeenCalled();

    fireEvent.keyDown(document.body, { key: "g" });
    fireEvent.keyDown(document.body, { key: "i" });
    expect(onAction).toHaveBeenLastCalledWith("goInbox");
  });
});
