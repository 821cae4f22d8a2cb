/**
 * Two colours for every chart: the theme's accent and a neutral grey. Given as the theme's CSS
 * variables, so a chart follows the light or dark scheme the page is in (the scheme is chosen
 * by a media query, which JavaScript-side palette values cannot see).
 */
export const CHART_COLORS = {
  primary: "var(--mui-palette-primary-main, #1f5fbf)",
  secondary: "var(--mui-palette-text-secondary, #6b7280)",
} as const;
