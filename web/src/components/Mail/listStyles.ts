"use client";

import { keyframes, styled } from "@mui/material/styles";

const pulse = keyframes`
  0% { opacity: 1; }
  50% { opacity: 0.4; }
  100% { opacity: 1; }
`;

/**
 * The list's whole look in one style sheet on its scroll container. Rows are plain elements
 * with class names and data attributes, so rendering or recycling a row while scrolling does
 * no CSS-in-JS work at all.
 */
export const ListScroller = styled("div")(({ theme }) => {
  const palette = (theme.vars ?? theme).palette;
  const primary = palette.primary.main;
  return {
    position: "relative",
    flex: 1,
    minHeight: 0,
    overflowY: "auto",
    overflowX: "hidden",
    overscrollBehavior: "contain",
    fontSize: 14,
    lineHeight: "20px",
    outline: "none",
    "&:focus-visible": { boxShadow: `inset 0 0 0 2px ${primary}` },
    "& .pw-rows": { position: "relative", width: "100%" },
    // Rows on their way (ThreadList's SkeletonRow): one animation per row, on opacity.
    "& .pw-skeleton": { animation: `${pulse} 2s ease-in-out 0.5s infinite` },
    "@media (prefers-reduced-motion: reduce)": { "& .pw-skeleton": { animation: "none" } },
    "& .pw-bar": {
      flex: "none",
      height: 12,
      margin: "0 8px",
      borderRadius: 4,
      backgroundColor: theme.alpha(palette.text.primary, 0.11),
    },
    "& .pw-bar-box": { width: 18, height: 18, margin: 11, marginRight: 3 },
    "& .pw-bar-fill": { flex: 1 },
    "& .pw-row": {
      position: "absolute",
      top: 0,
      left: 0,
      width: "100%",
      display: "flex",
      alignItems: "center",
      gap: 2,
      paddingLeft: 4,
      paddingRight: 8,
      boxSizing: "border-box",
      borderBottom: `1px solid ${palette.divider}`,
      color: palette.text.secondary,
      contain: "strict",
    },
    "& .pw-row[data-selected]": { backgroundColor: theme.alpha(primary, 0.1) },
    "& .pw-row[data-open]": { backgroundColor: palette.action.selected },
    "& .pw-row[data-focused]": { boxShadow: `inset 3px 0 0 ${primary}` },
    "@media (hover: hover)": {
      "& .pw-row:hover": { backgroundColor: palette.action.hover },
      "& .pw-row:hover .pw-hover-actions, & .pw-row:focus-within .pw-hover-actions": { display: "flex" },
      "& .pw-row:hover .pw-date, & .pw-row:focus-within .pw-date": { visibility: "hidden" },
    },
    "& .pw-check": {
      flex: "none",
      width: 18,
      height: 18,
      margin: 11,
      accentColor: primary,
      cursor: "pointer",
    },
    "& .pw-icon": {
      flex: "none",
      display: "inline-flex",
      alignItems: "center",
      justifyContent: "center",
      width: 32,
      height: 32,
      padding: 0,
      border: 0,
      borderRadius: "50%",
      background: "none",
      color: palette.text.secondary,
      cursor: "pointer",
      "&:hover": { backgroundColor: palette.action.hover, color: palette.text.primary },
    },
    "& .pw-starred": { color: palette.warning.main },
    "& .pw-check:focus-visible, & .pw-icon:focus-visible, & .pw-link:focus-visible": {
      outline: `2px solid ${primary}`,
      outlineOffset: -2,
    },
    "& .pw-link": {
      flex: 1,
      minWidth: 0,
      height: "100%",
      display: "flex",
      alignItems: "center",
      gap: 8,
      paddingLeft: 4,
      color: "inherit",
      textDecoration: "none",
      borderRadius: 4,
    },
    "& .pw-dot": {
      flex: "none",
      width: 8,
      height: 8,
      borderRadius: "50%",
      backgroundColor: primary,
      visibility: "hidden",
    },
    "& .pw-row[data-unread] .pw-dot": { visibility: "visible" },
    "& .pw-senders": {
      flex: "0 0 200px",
      overflow: "hidden",
      whiteSpace: "nowrap",
      textOverflow: "ellipsis",
      color: palette.text.primary,
    },
    "& .pw-text": {
      flex: 1,
      minWidth: 0,
      overflow: "hidden",
      whiteSpace: "nowrap",
      textOverflow: "ellipsis",
    },
    "& .pw-subject": { color: palette.text.primary },
    "& .pw-snippet": { color: palette.text.secondary },
    "& .pw-row[data-unread] .pw-senders, & .pw-row[data-unread] .pw-subject": { fontWeight: 700 },
    "& .pw-label": {
      flex: "none",
      maxWidth: 120,
      overflow: "hidden",
      whiteSpace: "nowrap",
      textOverflow: "ellipsis",
      fontSize: 12,
      lineHeight: "18px",
      padding: "0 6px",
      border: `1px solid ${palette.divider}`,
      borderRadius: 4,
      color: palette.text.secondary,
    },
    "& .pw-row svg": { flex: "none", fill: "currentColor" },
    "& .pw-attach": { width: 18, height: 18, color: palette.text.secondary },
    // The assistant's marks: important (the accent's warm cousin, as Gmail's), needs a reply, category.
    "& .pw-imp, & .pw-needs": { flex: "none", display: "inline-flex", width: 16, height: 16 },
    "& .pw-imp svg": { fill: palette.warning.main },
    "& .pw-needs svg": { fill: primary },
    "& .pw-cat": {
      flex: "none",
      maxWidth: 110,
      overflow: "hidden",
      whiteSpace: "nowrap",
      textOverflow: "ellipsis",
      fontSize: 12,
      lineHeight: "18px",
      padding: "0 6px",
      borderRadius: 4,
      backgroundColor: palette.action.selected,
      color: palette.text.primary,
    },
    "& .pw-date": {
      flex: "0 0 96px",
      textAlign: "right",
      fontVariantNumeric: "tabular-nums",
      whiteSpace: "nowrap",
      color: palette.text.secondary,
    },
    "& .pw-row[data-unread] .pw-date": { color: palette.text.primary, fontWeight: 700 },
    "& .pw-hover-actions": {
      display: "none",
      position: "absolute",
      right: 8,
      top: "50%",
      transform: "translateY(-50%)",
      gap: 0,
    },
    // Phones: two lines (senders and date; subject and snippet), the star at the end.
    "&[data-narrow] .pw-link": { flexDirection: "column", alignItems: "stretch", justifyContent: "center", gap: 2 },
    "&[data-narrow] .pw-line": { display: "flex", alignItems: "center", gap: 6, minWidth: 0 },
    "&[data-narrow] .pw-senders": { flex: 1 },
    "&[data-narrow] .pw-date": { flex: "none" },
    "&[data-narrow] .pw-second": { display: "block", overflow: "hidden", whiteSpace: "nowrap", textOverflow: "ellipsis" },
    "&[data-narrow] .pw-second .pw-dot": { display: "none" },
  };
});

/** Read by screen readers, not shown. */
export const visuallyHidden = {
  position: "absolute",
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
  border: 0,
} as const;
