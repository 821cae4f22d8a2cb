"use client";

import Chip from "@mui/material/Chip";

import { useHealth } from "@/api/health";

/** Small API status indicator for the top bar. */
export function HealthChip() {
  const health = useHealth();

  let label = "API …";
  let color: "default" | "success" | "error" = "default";
  if (!health.isPending) {
    const ok = health.isSuccess && health.data.status === "ok";
    label = ok ? "API ok" : "API unreachable";
    color = ok ? "success" : "error";
  }

  return (
    <Chip
      role="status"
      aria-live="polite"
      size="small"
      variant="outlined"
      color={color}
      label={label}
      data-testid="health-chip"
    />
  );
}
