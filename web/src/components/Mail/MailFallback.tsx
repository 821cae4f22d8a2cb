import Box from "@mui/material/Box";
import Skeleton from "@mui/material/Skeleton";

/** The mail view's first paint before its state is read from the address: a list of skeleton rows. */
export function MailFallback() {
  return (
    <Box aria-busy="true" aria-label="Loading conversations" sx={{ flex: 1, bgcolor: "background.paper" }}>
      <Box sx={{ height: 48, borderBottom: 1, borderColor: "divider", display: "flex", alignItems: "center", px: 2 }}>
        <Skeleton variant="text" width={120} sx={{ fontSize: 18 }} />
      </Box>
      {Array.from({ length: 12 }, (_, n) => (
        <Box key={n} sx={{ height: 56, display: "flex", alignItems: "center", gap: 2, px: 2, borderBottom: 1, borderColor: "divider" }}>
          <Skeleton variant="rounded" width={18} height={18} />
          <Skeleton variant="text" width={160} sx={{ fontSize: 14 }} />
          <Skeleton variant="text" sx={{ flex: 1, fontSize: 14 }} />
          <Skeleton variant="text" width={48} sx={{ fontSize: 14 }} />
        </Box>
      ))}
    </Box>
  );
}
