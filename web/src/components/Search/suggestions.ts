import { matchCorrespondents, type Correspondent } from "./correspondents";
import { completeOperator, personQuery, wordAt, type Completion, type PersonField } from "./query";

/** One row of the list under the search field. */
export type Suggestion =
  | { kind: "operator"; completion: Completion }
  | { kind: "person"; field: PersonField; name: string; address: string }
  | { kind: "recent"; query: string }
  | { kind: "clear-recent" };

export type SuggestionGroup = "Search operators" | "People" | "Recent searches";

export function suggestionGroup(suggestion: Suggestion): SuggestionGroup {
  switch (suggestion.kind) {
    case "operator":
      return "Search operators";
    case "person":
      return "People";
    default:
      return "Recent searches";
  }
}

interface SuggestionInput {
  /** The text in the field (without the chips). */
  text: string;
  caret: number;
  recent: readonly string[];
  people: readonly Correspondent[];
}

const MAX_MATCHING_RECENT = 3;

/**
 * What to offer for the text typed so far, grouped (operators, people, recent searches), each
 * group contiguous so the list can show a heading per group. An empty field offers the recent
 * searches and a way to clear them.
 */
export function buildSuggestions({ text, caret, recent, people }: SuggestionInput): Suggestion[] {
  const typed = text.trim();
  if (typed === "") {
    if (recent.length === 0) return [];
    return [...recent.map((query): Suggestion => ({ kind: "recent", query })), { kind: "clear-recent" }];
  }
  const { word } = wordAt(text, caret);
  const operators = completeOperator(word).map(
    (completion): Suggestion => ({ kind: "operator", completion }),
  );
  const asked = personQuery(word);
  // `from:` alone offers the most frequent people; a plain word those it matches.
  const persons =
    asked === undefined
      ? []
      : matchCorrespondents(people, asked.text).map(
          (person): Suggestion => ({
            kind: "person",
            field: asked.field,
            name: person.name,
            address: person.address,
          }),
        );
  const lower = typed.toLowerCase();
  const matching = recent
    .filter((query) => query !== typed && query.toLowerCase().includes(lower))
    .slice(0, MAX_MATCHING_RECENT)
    .map((query): Suggestion => ({ kind: "recent", query }));
  return [...operators, ...persons, ...matching];
}
