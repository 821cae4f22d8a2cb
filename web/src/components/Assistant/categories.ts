/**
 * The assistant's categories in words, and the searches the inbox's filter chips run. Plain
 * data with no imports: the list rows use it, and the inbox's first load stays small.
 */

export const CATEGORY_LABELS: Readonly<Record<string, string>> = {
  personal: "Personal",
  work: "Work",
  newsletter: "Newsletter",
  notification: "Notification",
  promotion: "Promotion",
  receipt: "Receipt",
  calendar: "Calendar",
  social: "Social",
  cold_outreach: "Cold outreach",
};

/** Every category, in the order menus offer them. */
export const CATEGORIES = Object.keys(CATEGORY_LABELS);

/** "Newsletter" for `newsletter`; a category this client does not know yet reads as itself. */
export function categoryLabel(category: string): string {
  return CATEGORY_LABELS[category] ?? category.replace(/_/g, " ").replace(/^./, (first) => first.toUpperCase());
}

export interface FilterChip {
  label: string;
  query: string;
}

export const IMPORTANT_QUERY = "is:important";
export const NEEDS_REPLY_QUERY = "needs:reply";

/** The filters above the inbox: each runs a search. */
export const FILTER_CHIPS: readonly FilterChip[] = [
  { label: "Needs reply", query: NEEDS_REPLY_QUERY },
  { label: "Important", query: IMPORTANT_QUERY },
  ...CATEGORIES.map((category) => ({ label: categoryLabel(category), query: `category:${category}` })),
];

/** The chip a search is, if it is exactly one. */
export function chipOfQuery(q: string | undefined): FilterChip | undefined {
  const query = q?.trim().toLowerCase();
  return query ? FILTER_CHIPS.find((chip) => chip.query === query) : undefined;
}
