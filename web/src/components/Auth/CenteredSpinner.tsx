import Box from "@mui/material/Box";
import CircularProgress from "@mui/material/CircularProgress";

/** A full-height busy indicator, e.g. while the session is being restored. */
export function CenteredSpinner({ label = "Loading" }: { label?: string }) {
  return (
    <Box
      sx={{ minHeight: "100dvh", display: "grid", placeItems: "center" }}
      role="progressbar"
      aria-label={label}
      aria-busy
    >
      <CircularProgress aria-hidden />
    </Box>
  );
}
