"use client";

import CloudOffOutlined from "@mui/icons-material/CloudOffOutlined";
import WarningAmberOutlined from "@mui/icons-material/WarningAmberOutlined";
import Chip from "@mui/material/Chip";
import Tooltip from "@mui/material/Tooltip";

import { useHealth } from "@/api/health";

// At phone width the top bar has no room for the words: the icon shows, the words stay for
// screen readers (clipped, not removed) and in the tooltip.
const LABEL_AT_PHONE_WIDTH = {
  position: { xs: "absolute", sm: "static" },
  width: { xs: "1px", sm: "auto" },
  height: { xs: "1px", sm: "auto" },
  overflow: { xs: "hidden", sm: "visible" },
  clip: { xs: "rect(0 0 0 0)", sm: "auto" },
  whiteSpace: "nowrap",
} as const;

/**
 * Says something only when there is trouble: nothing while the server answers (or before the
 * first check), a warning in words when it does not.
 */
export function HealthChip() {
  const health = useHealth();
  if (health.isPending || (health.isSuccess && health.data.status === "ok")) return null;

  // No answer at all (fetch threw) is the server or the network being away; an answer that is
  // not "ok" is a server that runs but misses a part of itself.
  const unreachable = health.isError && health.error instanceof TypeError;
  const label = unreachable ? "Can't reach Postwise — retrying" : "Some features are unavailable";
  return (
    <Tooltip title={label} enterTouchDelay={0}>
      <Chip
        role="status"
        aria-live="polite"
        size="small"
        color="warning"
        variant="outlined"
        icon={unreachable ? <CloudOffOutlined /> : <WarningAmberOutlined />}
        label={label}
        data-testid="health-chip"
        sx={{
          flex: "none",
          "& .MuiChip-label": LABEL_AT_PHONE_WIDTH,
          "& .MuiChip-icon": { mr: { xs: "4px", sm: "-6px" } },
        }}
      />
    </Tooltip>
  );
}
