import { ThemeProvider } from "@mui/material/styles";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "@/api/client";
import { mailKeys } from "@/api/keys";
import { authStore } from "@/auth/store";
import { theme } from "@/theme";

import { RECENT_SEARCHES_KEY } from "./recent";
import { SearchBar, searchUrl } from "./SearchBar";

const navigation = vi.hoisted(() => ({ push: vi.fn(), search: "" }));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ push: navigation.push, replace: vi.fn() }),
  useSearchParams: () => new URLSearchParams(navigation.search),
}));

let queryClient: QueryClient;

function renderBar() {
  return render(
    <QueryClientProvider client={queryClient}>
      <ThemeProvider theme={theme}>
        <SearchBar />
      </ThemeProvider>
    </QueryClientProvider>,
  );
}

const input = () => screen.getByRole("combobox", { name: "Search mail" });
const pushedQuery = () => new URL(String(navigation.push.mock.lastCall?.[0]), "http://localhost").searchParams.get("q");
const stored = () => JSON.parse(localStorage.getItem(RECENT_SEARCHES_KEY) ?? "[]") as string[];

function thread(id: string, participants: { name: string; address: string }[]) {
  return {
    id,
    account_id: "a1",
    subject: "s",
    snippet: "",
    participants,
    message_count: 1,
    unread: false,
    unread_count: 0,
    starred: false,
    has_attachments: false,
    last_message_at: "2024-01-01T00:00:00Z",
    labels: [],
  };
}

beforeEach(() => {
  navigation.push.mockReset();
  navigation.search = "";
  localStorage.clear();
  queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
});

describe("searchUrl", () => {
  it("keeps the mailbox and drops the rest", () => {
    expect(searchUrl("from:ana", null)).toBe("/?q=from%3Aana");
    expect(searchUrl("x", "acc-1")).toBe("/?q=x&account=acc-1");
    expect(searchUrl("", "acc-1")).toBe("/?account=acc-1");
    expect(searchUrl("", null)).toBe("/");
  });
});

describe("SearchBar", () => {
  it("is a labelled field the / shortcut can find", () => {
    renderBar();
    expect(input()).toHaveAttribute("id", "mail-search-input");
    expect(screen.getByRole("search")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Search filters" })).toBeInTheDocument();
  });

  it("shows the URL's query with its filters as chips", () => {
    navigation.search = "q=" + encodeURIComponent("from:ana budget has:attachment after:2024/01/01");
    renderBar();
    expect(input()).toHaveValue("budget");
    expect(screen.getByText("From: ana")).toBeInTheDocument();
    expect(screen.getByText("Has attachment")).toBeInTheDocument();
    expect(screen.getByText("After 1 Jan 2024")).toBeInTheDocument();
  });

  it("runs the search on Enter, keeping the mailbox, and remembers it", async () => {
    navigation.search = "account=acc-1&folder=sent&thread=t9";
    const user = userEvent.setup();
    renderBar();
    await user.type(input(), "budget report{Enter}");
    expect(navigation.push).toHaveBeenCalledWith("/?q=budget+report&account=acc-1");
    expect(stored()).toEqual(["budget report"]);
    expect(input()).not.toHaveFocus();
  });

  it("keeps ten recent searches, most recent first, each once", async () => {
    localStorage.setItem(RECENT_SEARCHES_KEY, JSON.stringify(Array.from({ length: 10 }, (_, i) => `q${i}`)));
    const user = userEvent.setup();
    renderBar();
    await user.type(input(), "q5{Enter}");
    expect(stored()).toEqual(["q5", "q0", "q1", "q2", "q3", "q4", "q6", "q7", "q8", "q9"]);
    await user.clear(input());
    await user.type(input(), "new{Enter}");
    expect(stored()).toHaveLength(10);
    expect(stored()[0]).toBe("new");
    expect(stored()).not.toContain("q9");
  });

  it("removes a filter when its chip is removed", async () => {
    navigation.search = "q=" + encodeURIComponent("from:ana has:attachment budget");
    const user = userEvent.setup();
    renderBar();
    await user.click(screen.getByRole("button", { name: "Remove filter From: ana" }));
    expect(pushedQuery()).toBe("has:attachment budget");
  });

  it("takes the last filter off with Backspace at the start of the text", async () => {
    navigation.search = "q=" + encodeURIComponent("from:ana is:unread");
    const user = userEvent.setup();
    renderBar();
    await user.click(input());
    await user.keyboard("{Backspace}");
    expect(screen.queryByText("Unread")).not.toBeInTheDocument();
    expect(screen.getByText("From: ana")).toBeInTheDocument();
    await user.keyboard("{Enter}");
    expect(pushedQuery()).toBe("from:ana");
  });

  it("offers recent searches on focus, by keyboard, and a way to clear them", async () => {
    localStorage.setItem(RECENT_SEARCHES_KEY, JSON.stringify(["from:bo invoice", "budget"]));
    const user = userEvent.setup();
    renderBar();
    await user.click(input());
    const list = screen.getByRole("listbox", { name: "Search suggestions" });
    expect(within(list).getAllByRole("option").map((option) => option.textContent)).toEqual([
      "from:bo invoice",
      "budget",
      "Clear recent searches",
    ]);

    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(input()).toHaveAttribute("aria-activedescendant", screen.getByRole("option", { name: "budget" }).id);
    await user.keyboard("{Enter}");
    expect(pushedQuery()).toBe("budget");

    await user.clear(input());
    await user.click(screen.getByRole("option", { name: "Clear recent searches" }));
    expect(stored()).toEqual([]);
    expect(screen.queryByRole("listbox")).not.toBeInTheDocument();
  });

  it("suggests people from the loaded lists, most frequent first, leaving out the user", async () => {
    queryClient.setQueryData(mailKeys.accounts, [{ id: "a1", email: "me@example.com" }]);
    queryClient.setQueryData(mailKeys.threadList({ folder: "inbox" }), {
      pages: [
        {
          items: [
            thread("t1", [{ name: "Ana Lima", address: "ana@example.com" }]),
            thread("t2", [
              { name: "Andrea Bo", address: "andrea@example.org" },
              { name: "Me", address: "me@example.com" },
            ]),
            thread("t3", [{ name: "Andrea Bo", address: "andrea@example.org" }]),
          ],
          next_cursor: null,
        },
      ],
      pageParams: [null],
    });
    const user = userEvent.setup();
    renderBar();
    await user.type(input(), "an");
    const people = within(screen.getByRole("group", { name: "People" })).getAllByRole("option");
    expect(people.map((option) => option.textContent)).toEqual([
      "Andrea Boandrea@example.org",
      "Ana Limaana@example.com",
    ]);
    await user.click(people[1] as HTMLElement);
    expect(pushedQuery()).toBe("from:ana@example.com");

    await user.type(input(), "me");
    expect(screen.queryByRole("group", { name: "People" })).not.toBeInTheDocument();
  });

  it("completes operators and keeps typing in the field", async () => {
    const user = userEvent.setup();
    renderBar();
    await user.type(input(), "budget ha");
    const operators = screen.getByRole("group", { name: "Search operators" });
    expect(within(operators).getByRole("option")).toHaveTextContent("has:attachment");
    await user.keyboard("{ArrowDown}{Enter}");
    expect(navigation.push).not.toHaveBeenCalled();
    expect(input()).toHaveValue("budget has:attachment ");
    expect(input()).toHaveFocus();

    await user.keyboard("{Enter}");
    expect(pushedQuery()).toBe("budget has:attachment");
  });

  it("Escape closes the suggestions, then drops the edit and leaves the field", async () => {
    navigation.search = "q=budget";
    localStorage.setItem(RECENT_SEARCHES_KEY, JSON.stringify(["budget planning"]));
    const user = userEvent.setup();
    renderBar();
    await user.click(input());
    await user.type(input(), " plan");
    expect(screen.getByRole("listbox")).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("listbox")).not.toBeInTheDocument();
    expect(input()).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(input()).toHaveValue("budget");
    expect(input()).not.toHaveFocus();
    expect(navigation.push).not.toHaveBeenCalled();
  });

  it("clears the search with the clear button", async () => {
    navigation.search = "q=" + encodeURIComponent("from:ana budget") + "&account=acc-1";
    const user = userEvent.setup();
    renderBar();
    await user.click(screen.getByRole("button", { name: "Clear search" }));
    expect(navigation.push).toHaveBeenCalledWith("/?account=acc-1");
    expect(input()).toHaveValue("");
    expect(screen.queryByText("From: ana")).not.toBeInTheDocument();
  });

  it("adds filters from the filter form", async () => {
    navigation.search = "q=" + encodeURIComponent("budget is:unread");
    const user = userEvent.setup();
    renderBar();
    await user.click(screen.getByRole("button", { name: "Search filters" }));
    // The filter form is loaded lazily on first opening.
    const form = await screen.findByRole("form", { name: "Search filters" });
    expect(within(form).getByRole("checkbox", { name: "Unread" })).toBeChecked();
    fireEvent.change(within(form).getByRole("textbox", { name: "From" }), { target: { value: "Ana Lima" } });
    await user.click(within(form).getByRole("checkbox", { name: "Has attachment" }));
    await user.click(within(form).getByRole("checkbox", { name: "Unread" }));
    fireEvent.change(within(form).getByLabelText("After"), { target: { value: "2024-01-01" } });
    fireEvent.change(within(form).getByLabelText("Before"), { target: { value: "2024-02-01" } });
    await user.click(within(form).getByRole("button", { name: "Search" }));
    expect(pushedQuery()).toBe('budget from:"Ana Lima" has:attachment after:2024/01/01 before:2024/02/01');
    // A popover with a form is slow to render in the test DOM on a busy machine.
  }, 15_000);

  it("refuses a date range that ends before it starts", async () => {
    const user = userEvent.setup();
    renderBar();
    await user.click(screen.getByRole("button", { name: "Search filters" }));
    fireEvent.change(await screen.findByLabelText("After"), { target: { value: "2024-03-01" } });
    fireEvent.change(screen.getByLabelText("Before"), { target: { value: "2024-02-01" } });
    expect(screen.getByRole("alert")).toHaveTextContent("later than the “after” day");
    expect(screen.getByRole("button", { name: "Search" })).toBeDisabled();
  });

  it("says in words why the server refused the search", async () => {
    navigation.search = "q=" + encodeURIComponent('report "quarterly');
    await queryClient.prefetchQuery({
      queryKey: mailKeys.threadList({ folder: "inbox", q: 'report "quarterly' }),
      queryFn: () => {
        throw new ApiError(422, {
          code: "invalid_query",
          title: "Invalid search query",
          errors: [{ code: "unbalanced_quote", position: 7, message: "Unclosed quote starting at character 8." }],
        });
      },
    });
    renderBar();
    expect(screen.getByRole("alert")).toHaveTextContent("A quote is not closed.");
    expect(input()).toHaveAttribute("aria-invalid", "true");
    expect(input()).toHaveAccessibleDescription(/A quote is not closed/);
  });

  it("forgets recent searches when the user signs out", async () => {
    localStorage.setItem(RECENT_SEARCHES_KEY, JSON.stringify(["secret project"]));
    authStore.setTokens({ access_token: "t", expires_in: 900 });
    renderBar();
    authStore.setSignedOut("explicit");
    expect(stored()).toEqual([]);
  });
});
